-- customers and orders flows, load: the Magazyn customer a shop customer is
-- linked to, if the link is live and the customer still there, and whether
-- the link is weak (made by name or e-mail alone: a `customer.weak` link to
-- the same customer). One look-up for what took three.
-- Parameters: :shop, :shop_id.
SELECT l.magazyn_id AS id,
       (SELECT COUNT(*) FROM magsync_links w
         WHERE w.shop = l.shop AND w.entity = 'customer.weak' AND w.shop_id = l.shop_id
           AND w.magazyn_id = l.magazyn_id AND w.retired_at IS NULL) AS weak
FROM magsync_links l
JOIN customers c ON c.id = l.magazyn_id
WHERE l.shop = :shop AND l.entity = 'customer' AND l.shop_id = :shop_id AND l.retired_at IS NULL
