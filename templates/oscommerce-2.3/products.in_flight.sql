-- products flow (shop side): what public shop orders beyond :after_id (the
-- highest order the Magazyn has loaded) took from each product's stock at
-- checkout. Orders in a non-public "Preparing" status have not (hosted
-- payment modules lower the stock when the payment completes).
-- Parameters: :after_id, :language_id.
SELECT op.products_id, SUM(op.products_quantity) AS quantity
FROM orders_products op
JOIN orders o ON o.orders_id = op.orders_id
LEFT JOIN orders_status s ON s.orders_status_id = o.orders_status AND s.language_id = :language_id
WHERE o.orders_id > :after_id
  AND COALESCE(s.public_flag, 1) = 1
GROUP BY op.products_id
