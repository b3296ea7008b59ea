UPDATE products
SET products_price = :new_price, products_quantity = :new_quantity,
    products_status = :new_status, products_last_modified = datetime('now', 'localtime')
WHERE products_id = :products_id
  AND products_price = :old_price AND products_quantity = :old_quantity AND products_status = :old_status
