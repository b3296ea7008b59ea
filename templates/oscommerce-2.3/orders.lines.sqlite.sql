-- orders flow, extract: the lines (see orders.lines.mysql.sql).
SELECT
  op.orders_id, op.orders_products_id, op.products_id,
  op.products_model AS model, op.products_name AS name,
  op.products_price AS price, op.final_price, op.products_tax AS tax_rate,
  op.products_quantity AS quantity,
  (SELECT group_concat(a.products_options || ': ' || a.products_options_values, ', ')
     FROM (SELECT * FROM orders_products_attributes x
            WHERE x.orders_id = op.orders_id AND x.orders_products_id = op.orders_products_id
            ORDER BY x.orders_products_attributes_id) a) AS attributes
FROM orders_products op
JOIN orders o ON o.orders_id = op.orders_id
LEFT JOIN orders_status s ON s.orders_status_id = o.orders_status AND s.language_id = :language_id
WHERE o.orders_id <= :max_id
  AND (:full = 1 OR o.orders_id > :after_id OR o.date_purchased >= :since OR o.last_modified >= :since)
  AND COALESCE(s.public_flag, 1) = 1
ORDER BY op.orders_id, op.orders_products_id
