INSERT INTO warehouses (symbol, name) VALUES (:symbol, :symbol) ON CONFLICT (symbol) DO NOTHING
