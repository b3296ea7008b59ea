-- products flow, extract (Magazyn side): visible goods with the price of the
-- shop's price list (:price_list; "" = the good's base price), the VAT rate of
-- their symbol, their barcode aliases and the stock of the shop's warehouse.
-- special_net/special_gross: the good's price on the specials list
-- (:specials_list, "" = none), which drives the shop's specials.
-- Money and quantities are canonical decimal text. Order by code.
-- Firebird: LIST() for group_concat (a BLOB, cast to VARCHAR so no per-row
-- blob round trips); the :price_list = '' test needs a CAST, else the
-- parameter is typed from the '' literal (CHAR(0)).
SELECT
  g.code, g.name, g.vat_symbol, CAST(v.rate AS VARCHAR(40)) AS vat_rate,
  (SELECT CAST(LIST(b.barcode, ' ') AS VARCHAR(8000)) FROM good_barcodes b WHERE b.good_id = g.id) AS barcodes,
  CAST(CASE WHEN CAST(:price_list AS VARCHAR(100)) = '' THEN g.base_net ELSE p.net END AS VARCHAR(40)) AS net,
  CAST(CASE WHEN CAST(:price_list AS VARCHAR(100)) = '' THEN g.base_gross ELSE p.gross END AS VARCHAR(40)) AS gross,
  CAST(COALESCE(s.quantity, 0) AS VARCHAR(40)) AS quantity,
  CAST(COALESCE(s.reserved, 0) AS VARCHAR(40)) AS reserved,
  CAST(sp.net AS VARCHAR(40)) AS special_net, CAST(sp.gross AS VARCHAR(40)) AS special_gross
FROM goods g
LEFT JOIN vat_rates v ON v.symbol = g.vat_symbol
LEFT JOIN prices p ON p.good_id = g.id
  AND p.price_list_id = (SELECT id FROM price_lists WHERE name = :price_list)
LEFT JOIN prices sp ON sp.good_id = g.id
  AND sp.price_list_id = (SELECT id FROM price_lists WHERE name = :specials_list)
LEFT JOIN stock s ON s.good_id = g.id
  AND s.warehouse_id = (SELECT id FROM warehouses WHERE symbol = :warehouse)
WHERE g.visible = 1 AND g.kind = 'good'
ORDER BY g.code
