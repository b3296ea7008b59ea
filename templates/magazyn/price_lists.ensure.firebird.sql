-- INSERT ... ON CONFLICT (name) DO NOTHING: a MERGE with only an insert branch.
MERGE INTO price_lists p
USING (SELECT CAST(:name AS VARCHAR(100)) AS name FROM RDB$DATABASE) n
ON p.name = n.name
WHEN NOT MATCHED THEN INSERT (name, currency) VALUES (n.name, 'PLN')
