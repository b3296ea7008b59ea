-- A good's base price (the price "in the good's definition"), used when a
-- shop's price_list is "" (empty name).
ALTER TABLE goods ADD COLUMN base_net TEXT;
ALTER TABLE goods ADD COLUMN base_gross TEXT;
