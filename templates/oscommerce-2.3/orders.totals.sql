-- orders flow, extract: the order totals (`ot_subtotal`, `ot_shipping`,
-- `ot_tax`, `ot_total` and the rest: fees, discounts), one plain stream of
-- orders_total, merged with the headers by magsync.
--
-- Run once per part of the window, :lo < orders_id <= :hi: with :all = 1
-- the whole key range; with :all = 2 the orders listed in :keys (a list:
-- the old orders an incremental run takes again, when they are few); with
-- :all = 0 the orders changed since :since (when they are many).
-- In any order: magsync sorts the rows by orders_id, then total_id (the
-- order the shop wrote them in), with little memory whatever the order.
SELECT t.orders_id, t.orders_total_id AS total_id, t.class, t.value, t.title, t.sort_order
FROM orders_total t
WHERE t.orders_id > :lo AND t.orders_id <= :hi
  AND (:all = 1
       OR (:all = 2 AND t.orders_id IN (:keys))
       OR (:all = 0 AND t.orders_id IN (
            SELECT o.orders_id FROM orders o
             WHERE o.orders_id > :lo AND o.orders_id <= :hi
               AND (o.date_purchased >= :since OR o.last_modified >= :since))))
