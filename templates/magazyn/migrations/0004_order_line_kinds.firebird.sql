-- Every order total that is not subtotal, tax or total becomes a line:
-- fees (the core low order fee, add-ons' fees) as `service`, discounts
-- (coupons, vouchers) as `discount`, and the grosz by which the shop's own
-- rounding differs from the lines as `rounding` (docs/orders.md).
-- The CHECK of 0001 has a name the server chose (INTEG_n): it is looked up
-- and dropped in one PSQL block (kept on one line: migrations split on a
-- `;` that ends a line), then the wider one is added under a name of ours.
EXECUTE BLOCK AS DECLARE n VARCHAR(63); BEGIN FOR SELECT TRIM(rc.RDB$CONSTRAINT_NAME) FROM RDB$RELATION_CONSTRAINTS rc WHERE rc.RDB$RELATION_NAME = 'ORDER_LINES' AND rc.RDB$CONSTRAINT_TYPE = 'CHECK' INTO :n DO EXECUTE STATEMENT 'ALTER TABLE order_lines DROP CONSTRAINT "' || n || '"'; END;
ALTER TABLE order_lines ADD CONSTRAINT order_lines_kind CHECK (kind IN ('good', 'shipping', 'one-off', 'service', 'discount', 'rounding'));
