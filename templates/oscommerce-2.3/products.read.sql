-- products flow (shop side): every shop product as it is now, with its name
-- in the shop's language. Read in full to match goods by model and to find
-- duplicate and empty models; the shop's catalogue, not its orders.
SELECT p.products_id, p.products_model AS model, p.products_price AS price,
       p.products_quantity AS quantity, p.products_status AS status,
       p.products_tax_class_id AS tax_class_id, pd.products_name AS name
FROM products p
LEFT JOIN products_description pd
       ON pd.products_id = p.products_id AND pd.language_id = :language_id
ORDER BY p.products_id
