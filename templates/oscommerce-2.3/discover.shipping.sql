-- magsync discover: delivery methods (ot_shipping titles), most used first.
SELECT title AS value, COUNT(*) AS n FROM orders_total WHERE class = 'ot_shipping' GROUP BY title ORDER BY n DESC
