-- products flow, load: end a running special (end_specials, or a special
-- the Magazyn's specials price list no longer holds), as the admin's
-- specials page does (status 0, date_status_change), only while it runs.
-- Parameters: :specials_id, :now (the shop's clock).
UPDATE specials SET status = 0, date_status_change = :now
WHERE specials_id = :specials_id AND status = 1
