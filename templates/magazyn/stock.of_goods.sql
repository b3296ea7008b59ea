-- orders flow, load: stock.get.sql for many goods at once (the goods whose
-- reservations a load adds up): one statement instead of a round trip per
-- good. A good with no stock row in the warehouse has no row.
-- Parameters: :warehouse_id, :good_ids (a list: magsync binds as many
-- values as it asks for).
SELECT good_id, quantity, reserved FROM stock
WHERE warehouse_id = :warehouse_id AND good_id IN (:good_ids)
