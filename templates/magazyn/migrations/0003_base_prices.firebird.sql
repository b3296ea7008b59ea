-- A good's base price (the price "in the good's definition"), used when a
-- shop's price_list is "" (empty name).
ALTER TABLE goods ADD base_net NUMERIC(18,4);
ALTER TABLE goods ADD base_gross NUMERIC(18,2);
