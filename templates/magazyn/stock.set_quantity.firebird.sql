-- ON CONFLICT ... DO UPDATE SET quantity only: a MERGE (UPDATE OR INSERT
-- would also reset reserved).
MERGE INTO stock s
USING (SELECT CAST(:warehouse_id AS BIGINT) AS warehouse_id, CAST(:good_id AS BIGINT) AS good_id,
              CAST(:quantity AS NUMERIC(18,4)) AS quantity
       FROM RDB$DATABASE) n
ON s.warehouse_id = n.warehouse_id AND s.good_id = n.good_id
WHEN MATCHED THEN UPDATE SET quantity = n.quantity
WHEN NOT MATCHED THEN
  INSERT (warehouse_id, good_id, quantity, reserved) VALUES (n.warehouse_id, n.good_id, n.quantity, 0)
