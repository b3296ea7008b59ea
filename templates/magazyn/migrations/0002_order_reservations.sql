-- Orders remember whether their goods are reserved in the warehouse, so a
-- reservation is made exactly once per order and released exactly once when
-- the order is cancelled, across reloads and status updates.
ALTER TABLE orders ADD COLUMN reserved INTEGER NOT NULL DEFAULT 0;
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX goods_visible ON goods (visible);
