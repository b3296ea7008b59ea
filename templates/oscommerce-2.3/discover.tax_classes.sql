-- magsync discover: tax classes with their rates and how many products use them.
SELECT tc.tax_class_title AS value,
       (SELECT MAX(tr.tax_rate) FROM tax_rates tr WHERE tr.tax_class_id = tc.tax_class_id) AS rate,
       (SELECT COUNT(*) FROM products p WHERE p.products_tax_class_id = tc.tax_class_id) AS n
FROM tax_class tc
ORDER BY tc.tax_class_id
