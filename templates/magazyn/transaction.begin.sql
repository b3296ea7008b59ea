-- The write transaction of a batch (SQLite: take the write lock now, so a
-- load waits for another writer at its start, not half way).
-- On Firebird a transaction is begun through the API (read committed,
-- waiting [magazyn] lock_wait seconds on a locked row): this is not run.
BEGIN IMMEDIATE
