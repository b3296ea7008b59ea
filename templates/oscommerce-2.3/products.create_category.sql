INSERT INTO products_to_categories (products_id, categories_id) VALUES (:products_id, :categories_id)
