-- products flow, load and undo: a special's status now (1 runs, 0 ended;
-- no row: deleted).
-- Parameter: :specials_id.
SELECT status FROM specials WHERE specials_id = :specials_id
