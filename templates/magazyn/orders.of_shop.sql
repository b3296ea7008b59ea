-- orders flow, load: the shop's orders the Magazyn holds and has not marked
-- deleted, in shop order number order (merged with the shop's list of
-- order ids: one the shop no longer has was deleted there). No description:
-- it is a BLOB on Firebird, a round trip per row; the few deleted ones are
-- read again by number.
-- Parameter: :shop.
SELECT id, number, CAST(confirmed_number AS BIGINT) AS shop_order_id, reserved, warehouse_id
FROM orders
WHERE shop = :shop AND status <> 'deleted'
ORDER BY CAST(confirmed_number AS BIGINT)
