-- Goods issued for realized orders, for a Magazyn that no warehouse
-- program keeps ([shops.<id>.orders] goods_issues = true; off by default,
-- since a real warehouse issues goods itself). One row per goods line of an
-- order that became realized; a negative quantity reverses one (the order
-- went back to an open status). Rows are never deleted: the sum per order
-- and good is what left the warehouse, and stock.quantity was lowered by it.
CREATE TABLE goods_issues (
  id           INTEGER PRIMARY KEY,
  order_id     INTEGER NOT NULL REFERENCES orders (id),
  line_no      INTEGER NOT NULL,
  good_id      INTEGER NOT NULL REFERENCES goods (id),
  warehouse_id INTEGER NOT NULL REFERENCES warehouses (id),
  quantity     TEXT NOT NULL,
  issued_at    TEXT NOT NULL,
  batch_id     TEXT NOT NULL
);
CREATE INDEX goods_issues_order ON goods_issues (order_id);
