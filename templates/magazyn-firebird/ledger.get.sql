SELECT batch_id, tag_sha256, applied_at, records, inserted, updated, unchanged, rejected
FROM magsync_batches WHERE batch_id = :batch_id
