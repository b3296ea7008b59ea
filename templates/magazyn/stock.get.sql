SELECT quantity, reserved FROM stock WHERE warehouse_id = :warehouse_id AND good_id = :good_id
