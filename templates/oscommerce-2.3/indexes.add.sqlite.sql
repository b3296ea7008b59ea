-- `magsync index --shop ID` on the SQLite demo shop (see the mysql variant).
CREATE INDEX IF NOT EXISTS magsync_orders_last_modified ON orders (last_modified);
CREATE INDEX IF NOT EXISTS magsync_orders_date_purchased ON orders (date_purchased);
