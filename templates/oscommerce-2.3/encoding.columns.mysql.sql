-- The character sets of the shop's text columns.
SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name, CHARACTER_SET_NAME AS charset
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE()
  AND TABLE_NAME IN ('customers', 'address_book', 'products_description', 'orders')
  AND CHARACTER_SET_NAME IS NOT NULL
