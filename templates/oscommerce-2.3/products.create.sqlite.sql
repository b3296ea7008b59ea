INSERT INTO products (products_quantity, products_model, products_price, products_date_added,
                      products_weight, products_status, products_tax_class_id, products_ordered)
VALUES (:quantity, :model, :price, datetime('now', 'localtime'), '0.00', 0, :tax_class_id, 0)
