INSERT INTO prices (price_list_id, good_id, net, gross, updated_at)
VALUES (:price_list_id, :good_id, :net, :gross, :now)
ON CONFLICT (price_list_id, good_id) DO UPDATE
SET net = excluded.net, gross = excluded.gross, updated_at = excluded.updated_at
