SELECT id, code, name, description, unit, vat_symbol, ean, weight, manufacturer, kind, visible
FROM goods WHERE code = :code
