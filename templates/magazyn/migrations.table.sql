-- The table of applied migrations (created when missing).
CREATE TABLE magsync_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL);
