-- The goods of an order and their quantities (what its reservation holds).
SELECT line_no, good_id, CAST(quantity AS VARCHAR(40)) AS quantity
FROM order_lines WHERE order_id = :order_id AND good_id IS NOT NULL
