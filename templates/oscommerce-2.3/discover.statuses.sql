-- magsync discover: order statuses in the configured language, with their use.
SELECT s.orders_status_name AS value, s.orders_status_id AS id, s.public_flag AS public_flag,
       (SELECT COUNT(*) FROM orders o WHERE o.orders_status = s.orders_status_id) AS n
FROM orders_status s
WHERE s.language_id = :language_id
ORDER BY s.orders_status_id
