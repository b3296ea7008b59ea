INSERT INTO stock (warehouse_id, good_id, quantity, reserved)
VALUES (:warehouse_id, :good_id, :quantity, '0')
ON CONFLICT (warehouse_id, good_id) DO UPDATE SET quantity = excluded.quantity
