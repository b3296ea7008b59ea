-- magsync undo of a product magsync created: only while it is still exactly
-- as created (inactive, same price and quantity).
DELETE FROM products
WHERE products_id = :products_id AND products_status = 0
  AND products_quantity = :quantity_written AND products_model = :model
