-- orders flow, extract: the shop's currencies and their value against the
-- default currency (osCommerce's currencies.value: units of the currency
-- per unit of DEFAULT_CURRENCY), recorded in the batch as
-- currency.<code>, so the transform can state every order's rate in złoty.
-- The column is a FLOAT (13,8): read as its decimal text, never as a float.
SELECT code, CAST(value AS CHAR) AS value FROM currencies
