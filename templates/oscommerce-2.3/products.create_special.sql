-- products flow, load (specials_price_list): a special at the price of the
-- Magazyn's specials list, running, with no end date (the list ends it).
-- Parameters: :products_id, :price (net, as the shop keeps it), :now.
INSERT INTO specials (products_id, specials_new_products_price, specials_date_added, status)
VALUES (:products_id, :price, :now, 1)
