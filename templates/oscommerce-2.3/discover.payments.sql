-- magsync discover: payment methods used in orders, most used first.
SELECT payment_method AS value, COUNT(*) AS n FROM orders GROUP BY payment_method ORDER BY n DESC
