-- What the Magazyn is, for `magsync check`: one row, `description`.
SELECT 'Firebird ' || TRIM(rdb$get_context('SYSTEM', 'ENGINE_VERSION'))
    || ', database character set ' || COALESCE(TRIM(RDB$CHARACTER_SET_NAME), 'NONE')
    || ' (text arrives as UTF-8: the server converts)' AS description
FROM RDB$DATABASE
