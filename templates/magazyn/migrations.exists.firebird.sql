-- Does the table of applied migrations exist? A row if it does.
SELECT 1 AS present FROM RDB$RELATIONS WHERE RDB$RELATION_NAME = 'MAGSYNC_MIGRATIONS'
