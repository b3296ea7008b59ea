-- Customers whose matching keys are missing or out of date (edited by another program).
SELECT id, name, email, nip FROM customers
WHERE keys_source IS NULL
   OR keys_source <> (name || '|' || COALESCE(email, '') || '|' || COALESCE(nip, ''))
