-- Every order total that is not subtotal, tax or total becomes a line:
-- fees (the core low order fee, add-ons' fees) as `service`, discounts
-- (coupons, vouchers) as `discount`, and the grosz by which the shop's own
-- rounding differs from the lines as `rounding` (docs/orders.md).
-- SQLite cannot change a CHECK constraint: the table is rebuilt as it was
-- with the wider one, rows kept.
CREATE TABLE order_lines_0004 (
  order_id    INTEGER NOT NULL REFERENCES orders (id),
  line_no     INTEGER NOT NULL,
  good_id     INTEGER REFERENCES goods (id),
  code        TEXT,
  name        TEXT NOT NULL,
  quantity    TEXT NOT NULL,
  unit_net    TEXT NOT NULL,
  vat_rate    TEXT NOT NULL,
  unit_gross  TEXT NOT NULL,
  total_net   TEXT NOT NULL,
  total_gross TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('good', 'shipping', 'one-off', 'service', 'discount', 'rounding')),
  PRIMARY KEY (order_id, line_no)
);
INSERT INTO order_lines_0004 SELECT order_id, line_no, good_id, code, name, quantity, unit_net, vat_rate,
  unit_gross, total_net, total_gross, kind FROM order_lines;
DROP TABLE order_lines;
ALTER TABLE order_lines_0004 RENAME TO order_lines;
