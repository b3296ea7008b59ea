-- magsync undo: restore a product's before-image, only where the shop still
-- holds exactly what magsync wrote.
UPDATE products
SET products_price = CAST(:price_before AS DECIMAL(15,4)), products_quantity = :quantity_before,
    products_status = :status_before, products_last_modified = :last_modified_before
WHERE products_id = :products_id
  AND products_price = CAST(:price_written AS DECIMAL(15,4))
  AND products_quantity = :quantity_written AND products_status = :status_written
