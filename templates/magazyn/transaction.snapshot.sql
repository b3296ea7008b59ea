-- A read transaction that sees one moment (the products extract).
-- On Firebird: the API's concurrency (snapshot) transaction; this is not run.
BEGIN
