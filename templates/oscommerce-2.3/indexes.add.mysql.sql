-- `magsync index --shop ID`: the opt-in indexes an incremental orders
-- extract uses (osCommerce 2.3.3 has none on these columns, so "changed
-- since the last run" scans the whole orders table). Named magsync_* so
-- `magsync index --drop` removes exactly these. Each statement is
-- idempotent; on MariaDB ALGORITHM=INPLACE with LOCK=NONE keeps the shop
-- taking orders while the index is built.
CREATE INDEX IF NOT EXISTS magsync_orders_last_modified ON orders (last_modified) ALGORITHM=INPLACE LOCK=NONE;
CREATE INDEX IF NOT EXISTS magsync_orders_date_purchased ON orders (date_purchased) ALGORITHM=INPLACE LOCK=NONE;
