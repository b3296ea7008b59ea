-- products flow, load (specials_price_list): a running special gets the
-- list's new price, where it still has the price the transform saw; also
-- `magsync undo` (old and new swapped).
-- Parameters: :specials_id, :old_price, :new_price, :now.
UPDATE specials SET specials_new_products_price = :new_price, specials_last_modified = :now
WHERE specials_id = :specials_id AND status = 1 AND specials_new_products_price = :old_price
