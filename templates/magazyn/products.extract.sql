-- products flow, extract (Magazyn side): visible goods with the price of the
-- shop's price list (:price_list; "" = the good's base price), the VAT rate of
-- their symbol, their barcode aliases and the stock of the shop's warehouse.
-- special_net/special_gross: the good's price on the specials list
-- (:specials_list, "" = none), which drives the shop's specials.
-- Money and quantities are canonical decimal text. Order by code.
SELECT
  g.code, g.name, g.vat_symbol, v.rate AS vat_rate,
  (SELECT group_concat(b.barcode, ' ') FROM good_barcodes b WHERE b.good_id = g.id) AS barcodes,
  CASE WHEN :price_list = '' THEN g.base_net ELSE p.net END AS net,
  CASE WHEN :price_list = '' THEN g.base_gross ELSE p.gross END AS gross,
  COALESCE(s.quantity, '0') AS quantity,
  COALESCE(s.reserved, '0') AS reserved,
  sp.net AS special_net, sp.gross AS special_gross
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
