UPDATE goods SET name = :name, description = :description, vat_symbol = :vat_symbol, ean = :ean,
                 weight = :weight, manufacturer = :manufacturer, updated_at = :now
WHERE id = :id
