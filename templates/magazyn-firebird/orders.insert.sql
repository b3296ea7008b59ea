INSERT INTO orders (number, confirmed_number, shop, customer_id, warehouse_id, ordered_at, status,
                    description, currency, currency_rate, buyer_name, buyer_nip, buyer_street,
                    buyer_postcode, buyer_city, buyer_country, recipient_name, recipient_street,
                    recipient_postcode, recipient_city, recipient_country, recipient_phone,
                    recipient_email, total_net, total_gross, created_at, updated_at, reserved,
                    buyer_is_company, customer_comment)
VALUES (:number, :confirmed_number, :shop, :customer_id, :warehouse_id, :ordered_at, :status,
        :description, :currency, :currency_rate, :buyer_name, :buyer_nip, :buyer_street,
        :buyer_postcode, :buyer_city, :buyer_country, :recipient_name, :recipient_street,
        :recipient_postcode, :recipient_city, :recipient_country, :recipient_phone,
        :recipient_email, :total_net, :total_gross, :now, :now, :reserved,
        :buyer_is_company, :customer_comment)
RETURNING id
