-- orders flow, extract: the order headers with their billing and delivery
-- blocks and the status name in the shop's language. One plain scan of
-- `orders` in key order: the totals, the first status comment, the lines and
-- their attributes come from their own tables' streams (orders.totals.sql,
-- orders.history.sql, orders.lines.sql, orders.attributes.sql), which magsync
-- merges on orders_id; the country codes come from orders.countries.sql.
-- Orders in a non-public status ("Preparing [PayPal Standard]" of hosted
-- payment modules) are left out until they reach a real status.
--
-- Parts of the window (:lo, :hi, :all, :keys, :since) as orders.totals.sql:
-- magsync runs it once per part, up to the signpost (orders created after
-- the extract started wait for the next run); :language_id. Must be ordered
-- by orders_id. (A copy without :lo is run once, with :full, :after_id and
-- :max_id.)
-- A copy may return `billing_nip` (an add-on that keeps the buyer's NIP on
-- the order).
SELECT
  o.orders_id, o.customers_id, o.customers_name, o.customers_company,
  o.customers_email_address AS customers_email, o.customers_telephone,
  o.billing_name, o.billing_company, o.billing_street_address AS billing_street,
  o.billing_suburb, o.billing_city, o.billing_postcode, o.billing_state, o.billing_country,
  o.delivery_name, o.delivery_company, o.delivery_street_address AS delivery_street,
  o.delivery_suburb, o.delivery_city, o.delivery_postcode, o.delivery_state, o.delivery_country,
  o.payment_method, o.date_purchased, o.last_modified,
  o.orders_status AS status_id, s.orders_status_name AS status_name,
  o.currency, o.currency_value
FROM orders o
LEFT JOIN orders_status s ON s.orders_status_id = o.orders_status AND s.language_id = :language_id
WHERE o.orders_id > :lo AND o.orders_id <= :hi
  AND (:all = 1
       OR (:all = 2 AND o.orders_id IN (:keys))
       OR (:all = 0 AND (o.date_purchased >= :since OR o.last_modified >= :since)))
  AND COALESCE(s.public_flag, 1) = 1
ORDER BY o.orders_id
