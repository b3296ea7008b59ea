-- orders flow, extract: the status history's comments; magsync keeps the
-- first of each order by date_added, then orders_status_history_id (what
-- the customer wrote at checkout).
-- Parts of the window, and any order: as orders.totals.sql.
SELECT h.orders_id, h.orders_status_history_id AS history_id, h.date_added, h.comments
FROM orders_status_history h
WHERE h.orders_id > :lo AND h.orders_id <= :hi
  AND (:all = 1
       OR (:all = 2 AND h.orders_id IN (:keys))
       OR (:all = 0 AND h.orders_id IN (
            SELECT o.orders_id FROM orders o
             WHERE o.orders_id > :lo AND o.orders_id <= :hi
               AND (o.date_purchased >= :since OR o.last_modified >= :since))))
