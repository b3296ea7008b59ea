-- orders flow, load: record what this load compared for orders deleted in
-- the shop, replacing the last load's row (checks.get.sql).
-- Parameters: :shop, :entity, :covered_to, :ids_count, :ids_digest,
-- :seen_to, :key_max, :batch_id, :now.
INSERT INTO magsync_checks (shop, entity, covered_to, ids_count, ids_digest, seen_to, key_max,
                            batch_id, checked_at)
VALUES (:shop, :entity, :covered_to, :ids_count, :ids_digest, :seen_to, :key_max, :batch_id, :now)
ON CONFLICT (shop, entity) DO UPDATE
SET covered_to = excluded.covered_to, ids_count = excluded.ids_count,
    ids_digest = excluded.ids_digest, seen_to = excluded.seen_to, key_max = excluded.key_max,
    batch_id = excluded.batch_id, checked_at = excluded.checked_at
