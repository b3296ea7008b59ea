-- orders flow, load: the goods issues of one order, issues and reversals
-- (magsync adds them up exactly).
SELECT line_no, good_id, CAST(quantity AS VARCHAR(40)) AS quantity FROM goods_issues WHERE order_id = :order_id
