SELECT 'products' AS name, 'SQLite' AS engine
