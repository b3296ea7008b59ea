-- `magsync index --shop ID --drop` on the SQLite demo shop.
DROP INDEX IF EXISTS magsync_orders_last_modified;
DROP INDEX IF EXISTS magsync_orders_date_purchased;
