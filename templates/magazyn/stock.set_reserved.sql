-- Decimal arithmetic happens in magsync (exact); this stores the result.
INSERT INTO stock (warehouse_id, good_id, quantity, reserved)
VALUES (:warehouse_id, :good_id, '0', :reserved)
ON CONFLICT (warehouse_id, good_id) DO UPDATE SET reserved = excluded.reserved
