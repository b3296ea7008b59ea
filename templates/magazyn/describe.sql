-- What the Magazyn is, for `magsync check`: one row, `description`.
SELECT 'SQLite ' || sqlite_version() || ' (reference schema, UTF-8)' AS description
