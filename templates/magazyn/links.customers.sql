-- orders flow, load: links.customer.sql for many shop customers at once
-- (the buyers of the next orders a load applies): one statement instead of
-- a round trip per buyer. A shop customer without a live link to an
-- existing customer has no row.
-- Parameters: :shop, :shop_ids (a list: magsync binds as many values as it
-- asks for).
SELECT l.shop_id,
       l.magazyn_id AS id,
       (SELECT COUNT(*) FROM magsync_links w
         WHERE w.shop = l.shop AND w.entity = 'customer.weak' AND w.shop_id = l.shop_id
           AND w.magazyn_id = l.magazyn_id AND w.retired_at IS NULL) AS weak
FROM magsync_links l
JOIN customers c ON c.id = l.magazyn_id
WHERE l.shop = :shop AND l.entity = 'customer' AND l.shop_id IN (:shop_ids) AND l.retired_at IS NULL
