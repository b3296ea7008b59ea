UPDATE customers
SET name = :name, nip = :nip, email = :email, phone = :phone, street = :street,
    postcode = :postcode, city = :city, country_code = :country_code,
    is_company = :is_company, updated_at = :now,
    name_key = :name_key, email_key = :email_key, nip_key = :nip_key, keys_source = :keys_source
WHERE id = :id
