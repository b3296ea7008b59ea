-- orders flow, load: the shop's orders the Magazyn holds and has not marked
-- deleted, in shop order number order (merged with the shop's list of
-- order ids: one the shop no longer has was deleted there).
-- Parameter: :shop.
SELECT id, number, CAST(confirmed_number AS BIGINT) AS shop_order_id, description, reserved, warehouse_id
FROM orders
WHERE shop = :shop AND status <> 'deleted'
ORDER BY CAST(confirmed_number AS BIGINT)
