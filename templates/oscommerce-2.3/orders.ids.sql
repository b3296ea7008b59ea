-- orders flow, extract: every order id the shop has up to the signpost
-- (:max_id), whatever its status, in order. An order the Magazyn holds
-- that is not among them was deleted in the shop's admin.
SELECT orders_id FROM orders WHERE orders_id <= :max_id ORDER BY orders_id
