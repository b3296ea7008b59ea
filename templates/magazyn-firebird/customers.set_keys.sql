UPDATE customers SET name_key = :name_key, email_key = :email_key, nip_key = :nip_key,
                     keys_source = :keys_source
WHERE id = :id
