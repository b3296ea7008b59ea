-- magsync reconcile: every registered customer's id.
SELECT customers_id AS id FROM customers ORDER BY customers_id
