-- products flow, load: a product the shop lacks, created inactive.
INSERT INTO products (products_quantity, products_model, products_price, products_date_added,
                      products_weight, products_status, products_tax_class_id, products_ordered)
VALUES (:quantity, :model, CAST(:price AS DECIMAL(15,4)), NOW(), 0, 0, :tax_class_id, 0)
