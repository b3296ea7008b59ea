SELECT CAST(net AS VARCHAR(40)) AS net, CAST(gross AS VARCHAR(40)) AS gross
FROM prices WHERE price_list_id = :price_list_id AND good_id = :good_id
