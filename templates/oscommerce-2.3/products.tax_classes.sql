-- Tax classes by id and title (to create products in the class whose title
-- map.tax_class maps to the good's VAT symbol, or whose rate matches).
SELECT tax_class_id, tax_class_title AS title FROM tax_class ORDER BY tax_class_id
