-- Does the table of applied migrations exist? A row if it does.
SELECT 1 AS present FROM sqlite_master WHERE type = 'table' AND name = 'magsync_migrations'
