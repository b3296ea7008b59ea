DELETE FROM products_description WHERE products_id = :products_id;
