SELECT id, status, description, reserved, warehouse_id FROM orders WHERE number = :number
