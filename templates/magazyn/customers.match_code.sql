-- customers flow, matching step "code": Magazyn customers whose code equals
-- the shop customer's (keys are normalised by magsync: see customers.set_keys.sql).
-- A customer already linked to another customer of the same shop is not a candidate.
-- Every candidate in id order (one SQL for SQLite and Firebird): magsync keeps the first five.
SELECT c.id FROM customers c
WHERE c.code = :value
  AND NOT EXISTS (
    SELECT 1 FROM magsync_links l
    WHERE l.entity = 'customer' AND l.shop = :shop
      AND l.magazyn_id = c.id AND l.shop_id <> :shop_id AND l.retired_at IS NULL)
ORDER BY c.id
