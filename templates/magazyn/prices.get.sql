SELECT net, gross FROM prices WHERE price_list_id = :price_list_id AND good_id = :good_id
