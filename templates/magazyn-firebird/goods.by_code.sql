SELECT id FROM goods WHERE code = :code
