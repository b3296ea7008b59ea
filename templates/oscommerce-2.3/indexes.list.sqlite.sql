-- The magsync_* indexes present on the SQLite demo shop: `name`, `table_name`.
SELECT name, tbl_name AS table_name FROM sqlite_master
WHERE type = 'index' AND name LIKE 'magsync!_%' ESCAPE '!'
ORDER BY name
