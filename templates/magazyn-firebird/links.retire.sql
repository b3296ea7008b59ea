-- customers and catalog flows, load: the shop record was deleted in the
-- shop; its link is retired (kept, matching nothing).
UPDATE magsync_links SET retired_at = :now, batch_id = :batch_id
WHERE shop = :shop AND entity = :entity AND shop_id = :shop_id AND retired_at IS NULL
