-- orders flow, load: the shop's orders the Magazyn holds, in any order
-- (each looked up in the shop's list of order ids: one not marked deleted
-- that the shop no longer has was deleted there; those marked count for
-- the highest number loaded). No ORDER BY: sorting every order of the shop
-- cost the load memory growing with the shop. No description: it is a BLOB on
-- Firebird, a round trip per row; the few deleted ones are read again by
-- number. Only those with an id above :after (0: all): the orders the last
-- load's comparison had not seen (checks.get.sql).
-- Parameters: :shop, :after.
SELECT id, number, CAST(confirmed_number AS BIGINT) AS shop_order_id, reserved, warehouse_id,
       status
FROM orders
WHERE shop = :shop AND id > :after
