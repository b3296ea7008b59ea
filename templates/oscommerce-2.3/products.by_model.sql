SELECT products_id FROM products WHERE products_model = :model
