SELECT COALESCE(MAX(products_id), 0) AS max_id FROM products
