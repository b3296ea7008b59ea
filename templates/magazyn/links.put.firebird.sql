-- SQLite's INSERT ... ON CONFLICT DO UPDATE ... WHERE: a MERGE whose update
-- branch has the same condition (Firebird 3 accepts WHEN MATCHED AND ...).
-- The parameters are typed by the CASTs (a bare ? in a select list has no type).
MERGE INTO magsync_links l
USING (SELECT CAST(:shop AS VARCHAR(100)) AS shop, CAST(:entity AS VARCHAR(32)) AS entity,
              CAST(:shop_id AS VARCHAR(100)) AS shop_id, CAST(:magazyn_id AS BIGINT) AS magazyn_id,
              CAST(:batch_id AS VARCHAR(200)) AS batch_id, CAST(:now AS VARCHAR(32)) AS linked_at
       FROM RDB$DATABASE) n
ON l.shop = n.shop AND l.entity = n.entity AND l.shop_id = n.shop_id
WHEN MATCHED AND (l.magazyn_id <> n.magazyn_id OR l.retired_at IS NOT NULL) THEN
  UPDATE SET magazyn_id = n.magazyn_id, batch_id = n.batch_id, linked_at = n.linked_at, retired_at = NULL
WHEN NOT MATCHED THEN
  INSERT (shop, entity, shop_id, magazyn_id, batch_id, linked_at)
  VALUES (n.shop, n.entity, n.shop_id, n.magazyn_id, n.batch_id, n.linked_at)
