-- products flow (shop side): the specials running now (status 1, not
-- expired on the shop's clock :now). The shop shows their price instead of
-- products_price, so a push of that price is hidden while one runs.
-- Parameter: :now.
SELECT s.specials_id, s.products_id, s.specials_new_products_price AS price, s.expires_date
FROM specials s
WHERE s.status = 1 AND (s.expires_date IS NULL OR s.expires_date > :now)
