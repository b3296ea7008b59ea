-- reconcile: the goods linked (by the catalog flow) to products of this
-- shop, live links only, with the shop product id each points at.
SELECT l.shop_id, g.code FROM magsync_links l JOIN goods g ON g.id = l.magazyn_id
WHERE l.shop = :shop AND l.entity = 'product' AND l.retired_at IS NULL
ORDER BY g.code
