-- orders flow, load: what the shop's last load compared for orders deleted
-- in the shop (migrations/0008_deletion_checks.sql); no row before the
-- first.
-- Parameters: :shop, :entity.
SELECT covered_to, ids_count, ids_digest, seen_to, key_max
FROM magsync_checks
WHERE shop = :shop AND entity = :entity
