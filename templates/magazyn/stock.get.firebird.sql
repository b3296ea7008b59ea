SELECT CAST(quantity AS VARCHAR(40)) AS quantity, CAST(reserved AS VARCHAR(40)) AS reserved
FROM stock WHERE warehouse_id = :warehouse_id AND good_id = :good_id
