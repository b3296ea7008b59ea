INSERT INTO magsync_links (shop, entity, shop_id, magazyn_id, batch_id, linked_at)
VALUES (:shop, :entity, :shop_id, :magazyn_id, :batch_id, :now)
ON CONFLICT (shop, entity, shop_id) DO UPDATE
SET magazyn_id = excluded.magazyn_id, batch_id = excluded.batch_id, linked_at = excluded.linked_at,
    retired_at = NULL
WHERE magsync_links.magazyn_id <> excluded.magazyn_id OR magsync_links.retired_at IS NOT NULL
