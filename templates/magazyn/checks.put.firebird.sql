-- orders flow, load: record what this load compared for orders deleted in
-- the shop, replacing the last load's row (checks.get.sql).
-- Parameters: :shop, :entity, :covered_to, :ids_count, :ids_digest,
-- :seen_to, :key_max, :batch_id, :now.
UPDATE OR INSERT INTO magsync_checks (shop, entity, covered_to, ids_count, ids_digest, seen_to,
                                      key_max, batch_id, checked_at)
VALUES (:shop, :entity, :covered_to, :ids_count, :ids_digest, :seen_to, :key_max, :batch_id, :now)
MATCHING (shop, entity)
