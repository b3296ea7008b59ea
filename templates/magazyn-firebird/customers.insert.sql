INSERT INTO customers (code, name, nip, email, phone, street, postcode, city, country_code,
                       is_company, created_at, updated_at, name_key, email_key, nip_key, keys_source)
VALUES (:code, :name, :nip, :email, :phone, :street, :postcode, :city, :country_code,
        :is_company, :now, :now, :name_key, :email_key, :nip_key, :keys_source)
RETURNING id
