-- orders flow, extract: the orders an incremental run takes again, those
-- already extracted (orders_id <= :after_id) whose dates say they changed
-- since :since, in order. Their totals, history, lines and attributes are
-- then read by key, a few rows each, instead of scanning those tables.
-- Parameters: :after_id, :since.
SELECT o.orders_id
FROM orders o
WHERE o.orders_id <= :after_id
  AND (o.date_purchased >= :since OR o.last_modified >= :since)
ORDER BY o.orders_id
