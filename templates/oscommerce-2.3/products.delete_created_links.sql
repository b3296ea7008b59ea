DELETE FROM products_to_categories WHERE products_id = :products_id
