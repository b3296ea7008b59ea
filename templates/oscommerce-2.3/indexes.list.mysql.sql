-- The magsync_* indexes present on the shop: `name`, `table_name`.
SELECT DISTINCT index_name AS name, table_name
FROM information_schema.statistics
WHERE table_schema = DATABASE() AND index_name LIKE 'magsync\_%'
ORDER BY index_name
