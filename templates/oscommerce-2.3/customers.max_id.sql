-- The highest customers_id when an extract starts (part of the signpost).
SELECT COALESCE(MAX(customers_id), 0) AS max_id FROM customers
