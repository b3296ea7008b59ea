UPDATE orders SET status = :status, description = :description, reserved = :reserved, updated_at = :now
WHERE id = :id
