-- `magsync undo` of a products push: a special the push ended runs again,
-- only where it is still ended (nobody restarted or deleted it since).
-- Parameters: :specials_id, :now.
UPDATE specials SET status = 1, date_status_change = :now
WHERE specials_id = :specials_id AND status = 0
