-- The shop's tables and columns (for `magsync check`).
SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
