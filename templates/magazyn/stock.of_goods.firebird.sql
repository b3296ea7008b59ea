-- stock.of_goods.sql for Firebird: the amounts as text (the driver reads
-- NUMERIC as a double).
SELECT good_id, CAST(quantity AS VARCHAR(40)) AS quantity, CAST(reserved AS VARCHAR(40)) AS reserved
FROM stock WHERE warehouse_id = :warehouse_id AND good_id IN (:good_ids)
