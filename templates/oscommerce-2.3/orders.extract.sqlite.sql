-- orders flow, extract: order headers with their billing and delivery
-- blocks, the status name in the shop's language and the totals by class.
-- Orders in a non-public status ("Preparing [PayPal Standard]" of hosted
-- payment modules) are left out until they reach a real status.
--
-- Parameters: :full, :since, :after_id (see customers.extract.sql), :max_id
-- (the signpost: orders created after the extract started wait for the next
-- run), :language_id.
-- Totals come as space-separated lists of values per class (a class may have
-- several rows, e.g. one ot_tax row per tax rate); magsync adds them up
-- exactly. customer_comment: the first status history comment, what the
-- customer wrote at checkout. extra_totals: the other totals one a line, `class value title`,
-- in sort order (fees and discounts become order lines). Order by orders_id: the lines query must use the same order.
SELECT
  o.orders_id, o.customers_id, o.customers_name, o.customers_company,
  o.customers_email_address AS customers_email, o.customers_telephone,
  o.billing_name, o.billing_company, o.billing_street_address AS billing_street,
  o.billing_suburb, o.billing_city, o.billing_postcode, o.billing_state, o.billing_country,
  (SELECT MIN(c.countries_iso_code_2) FROM countries c WHERE c.countries_name = o.billing_country) AS billing_country_iso2,
  o.delivery_name, o.delivery_company, o.delivery_street_address AS delivery_street,
  o.delivery_suburb, o.delivery_city, o.delivery_postcode, o.delivery_state, o.delivery_country,
  (SELECT MIN(c.countries_iso_code_2) FROM countries c WHERE c.countries_name = o.delivery_country) AS delivery_country_iso2,
  o.payment_method, o.date_purchased, o.last_modified,
  (SELECT h.comments FROM orders_status_history h WHERE h.orders_id = o.orders_id
    ORDER BY h.date_added, h.orders_status_history_id LIMIT 1) AS customer_comment,
  o.orders_status AS status_id, s.orders_status_name AS status_name,
  o.currency, o.currency_value,
  (SELECT group_concat(t.value, ' ') FROM orders_total t WHERE t.orders_id = o.orders_id AND t.class = 'ot_subtotal') AS subtotal,
  (SELECT MIN(t.title) FROM orders_total t WHERE t.orders_id = o.orders_id AND t.class = 'ot_shipping') AS shipping_title,
  (SELECT group_concat(t.value, ' ') FROM orders_total t WHERE t.orders_id = o.orders_id AND t.class = 'ot_shipping') AS shipping_value,
  (SELECT group_concat(t.value, ' ') FROM orders_total t WHERE t.orders_id = o.orders_id AND t.class = 'ot_tax') AS tax_total,
  (SELECT group_concat(t.value, ' ') FROM orders_total t WHERE t.orders_id = o.orders_id
     AND t.class NOT IN ('ot_subtotal', 'ot_shipping', 'ot_tax', 'ot_total')) AS other_totals,
  (SELECT group_concat(x.line, char(10)) FROM (
     SELECT t.class || ' ' || t.value || ' ' || replace(t.title, char(10), ' ') AS line
     FROM orders_total t WHERE t.orders_id = o.orders_id
       AND t.class NOT IN ('ot_subtotal', 'ot_shipping', 'ot_tax', 'ot_total')
     ORDER BY t.sort_order, t.orders_total_id) x) AS extra_totals,
  (SELECT group_concat(t.value, ' ') FROM orders_total t WHERE t.orders_id = o.orders_id AND t.class = 'ot_total') AS total
FROM orders o
LEFT JOIN orders_status s ON s.orders_status_id = o.orders_status AND s.language_id = :language_id
WHERE o.orders_id <= :max_id
  AND (:full = 1 OR o.orders_id > :after_id OR o.date_purchased >= :since OR o.last_modified >= :since)
  AND COALESCE(s.public_flag, 1) = 1
ORDER BY o.orders_id
