SELECT id FROM price_lists WHERE name = :name
