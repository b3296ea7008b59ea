-- The migrations applied so far.
SELECT version FROM magsync_migrations
