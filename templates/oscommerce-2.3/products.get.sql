SELECT products_id, products_price AS price, products_quantity AS quantity,
       products_status AS status, products_last_modified AS last_modified
FROM products WHERE products_id = :products_id
