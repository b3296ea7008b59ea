SELECT magazyn_id FROM magsync_links WHERE shop = :shop AND entity = :entity AND shop_id = :shop_id AND retired_at IS NULL
