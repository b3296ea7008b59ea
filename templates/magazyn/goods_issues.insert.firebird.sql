-- orders flow, load (with [shops.<id>.orders] goods_issues): goods of one
-- order line leave the warehouse (a negative :quantity reverses an issue).
INSERT INTO goods_issues (order_id, line_no, good_id, warehouse_id, quantity, issued_at, batch_id)
VALUES (:order_id, :line_no, :good_id, :warehouse_id, CAST(:quantity AS NUMERIC(18,4)), :issued_at, :batch_id)
