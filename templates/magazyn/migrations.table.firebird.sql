-- The table of applied migrations (created when missing).
CREATE TABLE magsync_migrations (version VARCHAR(64) NOT NULL PRIMARY KEY, applied_at VARCHAR(32) NOT NULL);
