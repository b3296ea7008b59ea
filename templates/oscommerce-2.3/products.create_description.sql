INSERT INTO products_description (products_id, language_id, products_name, products_description)
VALUES (:products_id, :language_id, :name, :description)
