-- products flow, load: write the new values only where the shop still holds
-- the values the transform saw (nothing changed in between).
UPDATE products
SET products_price = CAST(:new_price AS DECIMAL(15,4)), products_quantity = :new_quantity,
    products_status = :new_status, products_last_modified = NOW()
WHERE products_id = :products_id
  AND products_price = CAST(:old_price AS DECIMAL(15,4))
  AND products_quantity = :old_quantity AND products_status = :old_status
