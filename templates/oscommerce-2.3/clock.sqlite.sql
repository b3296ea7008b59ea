-- The demo shop's clock (local time, as osCommerce's now() would give).
SELECT datetime('now', 'localtime') AS now
