INSERT INTO goods (code, name, description, unit, vat_symbol, ean, weight, manufacturer, kind,
                   visible, created_at, updated_at)
VALUES (:code, :name, :description, :unit, :vat_symbol, :ean, :weight, :manufacturer, :kind,
        :visible, :now, :now)
RETURNING id
