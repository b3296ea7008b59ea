-- `magsync index --shop ID --drop`: removes the indexes indexes.add.sql
-- created, and nothing else.
DROP INDEX IF EXISTS magsync_orders_last_modified ON orders;
DROP INDEX IF EXISTS magsync_orders_date_purchased ON orders;
