-- Record a migration as applied (written after its statements).
INSERT INTO magsync_migrations (version, applied_at) VALUES (:version, :now)
