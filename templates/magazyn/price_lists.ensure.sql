INSERT INTO price_lists (name, currency) VALUES (:name, 'PLN') ON CONFLICT (name) DO NOTHING
