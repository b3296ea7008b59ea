-- The shop database's clock, read before an extract starts (the signpost).
-- osCommerce writes now() in the server's local time into DATETIME columns,
-- so watermarks are compared on that clock, never on magsync's.
SELECT CAST(NOW() AS DATETIME) AS now
