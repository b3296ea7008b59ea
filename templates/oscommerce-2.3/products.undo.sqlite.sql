UPDATE products
SET products_price = :price_before, products_quantity = :quantity_before,
    products_status = :status_before, products_last_modified = :last_modified_before
WHERE products_id = :products_id
  AND products_price = :price_written AND products_quantity = :quantity_written
  AND products_status = :status_written
