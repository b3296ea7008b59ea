-- orders flow, extract: the lines of the orders orders.extract.sql returns
-- (the same WHERE clause, run in the same snapshot), in the same order, with
-- the chosen attributes as "Option: value, Option: value".
SELECT
  op.orders_id, op.orders_products_id, op.products_id,
  op.products_model AS model, op.products_name AS name,
  op.products_price AS price, op.final_price, op.products_tax AS tax_rate,
  op.products_quantity AS quantity,
  (SELECT GROUP_CONCAT(CONCAT(a.products_options, ': ', a.products_options_values)
                       ORDER BY a.orders_products_attributes_id SEPARATOR ', ')
     FROM orders_products_attributes a
    WHERE a.orders_id = op.orders_id AND a.orders_products_id = op.orders_products_id) AS attributes
FROM orders_products op
JOIN orders o ON o.orders_id = op.orders_id
LEFT JOIN orders_status s ON s.orders_status_id = o.orders_status AND s.language_id = :language_id
WHERE o.orders_id <= :max_id
  AND (:full = 1 OR o.orders_id > :after_id OR o.date_purchased >= :since OR o.last_modified >= :since)
  AND COALESCE(s.public_flag, 1) = 1
ORDER BY op.orders_id, op.orders_products_id
