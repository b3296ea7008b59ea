-- magsync reconcile: every public order's id (Preparing orders excluded).
SELECT o.orders_id AS id FROM orders o
LEFT JOIN orders_status s ON s.orders_status_id = o.orders_status AND s.language_id = :language_id
WHERE COALESCE(s.public_flag, 1) = 1 ORDER BY o.orders_id
