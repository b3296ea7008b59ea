-- Decimal arithmetic happens in magsync (exact); this stores the result.
-- ON CONFLICT ... DO UPDATE SET reserved only: a MERGE.
MERGE INTO stock s
USING (SELECT CAST(:warehouse_id AS BIGINT) AS warehouse_id, CAST(:good_id AS BIGINT) AS good_id,
              CAST(:reserved AS NUMERIC(18,4)) AS reserved
       FROM RDB$DATABASE) n
ON s.warehouse_id = n.warehouse_id AND s.good_id = n.good_id
WHEN MATCHED THEN UPDATE SET reserved = n.reserved
WHEN NOT MATCHED THEN
  INSERT (warehouse_id, good_id, quantity, reserved) VALUES (n.warehouse_id, n.good_id, 0, n.reserved)
