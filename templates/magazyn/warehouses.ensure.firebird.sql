-- INSERT ... ON CONFLICT (symbol) DO NOTHING: a MERGE with only an insert branch.
MERGE INTO warehouses w
USING (SELECT CAST(:symbol AS VARCHAR(50)) AS symbol FROM RDB$DATABASE) n
ON w.symbol = n.symbol
WHEN NOT MATCHED THEN INSERT (symbol, name) VALUES (n.symbol, n.symbol)
