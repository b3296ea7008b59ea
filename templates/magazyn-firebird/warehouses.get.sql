SELECT id FROM warehouses WHERE symbol = :symbol
