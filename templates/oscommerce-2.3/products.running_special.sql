-- products flow, load: the running special of a product, if any (the load
-- checks the shop still is as the transform saw it).
-- Parameter: :products_id.
SELECT specials_id, specials_new_products_price AS price FROM specials
WHERE products_id = :products_id AND status = 1
