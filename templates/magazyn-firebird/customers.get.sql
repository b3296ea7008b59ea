SELECT id, code, name, nip, email, phone, street, postcode, city, country_code, is_company
FROM customers WHERE id = :id
