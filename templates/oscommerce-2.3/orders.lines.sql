-- orders flow, extract: the order lines, one plain stream of
-- orders_products, merged with the headers by magsync (a line whose order
-- the headers do not have, e.g. of a non-public status, is left out).
-- Parts of the window, and any order: as orders.totals.sql.
SELECT
  op.orders_id, op.orders_products_id, op.products_id,
  op.products_model AS model, op.products_name AS name,
  op.products_price AS price, op.final_price, op.products_tax AS tax_rate,
  op.products_quantity AS quantity
FROM orders_products op
WHERE op.orders_id > :lo AND op.orders_id <= :hi
  AND (:all = 1
       OR (:all = 2 AND op.orders_id IN (:keys))
       OR (:all = 0 AND op.orders_id IN (
            SELECT o.orders_id FROM orders o
             WHERE o.orders_id > :lo AND o.orders_id <= :hi
               AND (o.date_purchased >= :since OR o.last_modified >= :since))))
