-- Orders remember whether their goods are reserved in the warehouse, so a
-- reservation is made exactly once per order and released exactly once when
-- the order is cancelled, across reloads and status updates.
-- Firebird: no COLUMN keyword; DEFAULT before NOT NULL. Existing rows read
-- the default (0).
ALTER TABLE orders ADD reserved SMALLINT DEFAULT 0 NOT NULL;
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX goods_visible ON goods (visible);
