-- orders flow, extract: the attributes chosen on the order lines, merged
-- with the lines by magsync as "Option: value, Option: value".
-- Parts of the window, and any order: as orders.totals.sql.
SELECT a.orders_id, a.orders_products_id, a.orders_products_attributes_id AS attribute_id,
  a.products_options AS option_name, a.products_options_values AS option_value
FROM orders_products_attributes a
WHERE a.orders_id > :lo AND a.orders_id <= :hi
  AND (:all = 1
       OR (:all = 2 AND a.orders_id IN (:keys))
       OR (:all = 0 AND a.orders_id IN (
            SELECT o.orders_id FROM orders o
             WHERE o.orders_id > :lo AND o.orders_id <= :hi
               AND (o.date_purchased >= :since OR o.last_modified >= :since))))
