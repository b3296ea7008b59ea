-- The highest orders_id when an extract starts (part of the signpost).
SELECT COALESCE(MAX(orders_id), 0) AS max_id FROM orders
