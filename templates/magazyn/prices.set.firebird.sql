-- Decimals are bound as text ('12.5000'); Firebird converts them exactly.
UPDATE OR INSERT INTO prices (price_list_id, good_id, net, gross, updated_at)
VALUES (:price_list_id, :good_id, :net, :gross, :now)
MATCHING (price_list_id, good_id)
