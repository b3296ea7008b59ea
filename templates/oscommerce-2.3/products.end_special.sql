-- products flow, load (with [shops.<id>.products] end_specials): end a
-- running special that hides the price pushed, as the admin's specials page
-- does (status 0, date_status_change), only while it still runs.
-- Parameters: :specials_id, :now (the shop's clock).
UPDATE specials SET status = 0, date_status_change = :now
WHERE specials_id = :specials_id AND status = 1
