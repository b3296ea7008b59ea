-- `magsync undo` of a products push: a special the push created is
-- deleted, where it is still as created (running, at the price written).
-- Parameters: :specials_id, :new_price.
DELETE FROM specials
WHERE specials_id = :specials_id AND status = 1 AND specials_new_products_price = :new_price
