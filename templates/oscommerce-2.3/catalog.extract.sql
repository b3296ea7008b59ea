-- catalog and prices flows, extract: shop products with their name and
-- description in the shop's language, tax class (magsync adds the rate the
-- shop applies in its home zone: products.tax_rates.sql), manufacturer, the
-- active special, and how many
-- products share the model (a shared model cannot identify a good).
--
-- Parameters: :full, :since, :after_id, :max_id (see customers.extract.sql),
-- :language_id, :now (the shop's clock: a special whose expires_date is past
-- is not active even before the shop's catalog pages expire it). An EAN comes from a column named `ean`
-- where a copy of this template returns one (e.g. `p.products_ean AS ean`).
SELECT
  p.products_id, p.products_model AS model, pd.products_name AS name,
  pd.products_description AS description,
  p.products_tax_class_id AS tax_class_id, tc.tax_class_title AS tax_class_title,
  p.products_weight AS weight, m.manufacturers_name AS manufacturer,
  p.products_price AS price,
  (SELECT MIN(s.specials_new_products_price) FROM specials s
    WHERE s.products_id = p.products_id AND s.status = 1
      AND (s.expires_date IS NULL OR s.expires_date > :now)) AS special_price,
  p.products_status AS status, p.products_date_added AS date_added,
  p.products_last_modified AS last_modified,
  (SELECT COUNT(*) FROM products p2 WHERE p2.products_model = p.products_model) AS model_count
FROM products p
LEFT JOIN products_description pd ON pd.products_id = p.products_id AND pd.language_id = :language_id
LEFT JOIN tax_class tc ON tc.tax_class_id = p.products_tax_class_id
LEFT JOIN manufacturers m ON m.manufacturers_id = p.manufacturers_id
WHERE p.products_id <= :max_id
  AND (:full = 1 OR p.products_id > :after_id
       OR p.products_date_added >= :since OR p.products_last_modified >= :since)
ORDER BY p.products_id
