-- Products whose model cannot identify a good: empty, or shared.
SELECT
  (SELECT COUNT(*) FROM products WHERE products_model IS NULL OR products_model = '') AS empty_models,
  (SELECT COUNT(*) FROM (SELECT products_model FROM products
                          WHERE products_model IS NOT NULL AND products_model <> ''
                          GROUP BY products_model HAVING COUNT(*) > 1) d) AS duplicate_models
