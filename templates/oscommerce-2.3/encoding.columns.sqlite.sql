SELECT 'customers' AS table_name, 'customers_lastname' AS column_name, 'utf8' AS charset
