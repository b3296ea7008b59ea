-- magsync reference schema of the Magazyn (DGCS System – Magazyn concepts).
-- Money and quantities are TEXT in canonical decimal form ('12.5000'): SQLite's
-- NUMERIC affinity would store them as floating point. Timestamps are ISO 8601
-- UTC text ('2026-11-29T03:47:51Z').

CREATE TABLE warehouses (
  id     INTEGER PRIMARY KEY,
  symbol TEXT NOT NULL UNIQUE,
  name   TEXT NOT NULL DEFAULT ''
);

CREATE TABLE vat_rates (
  symbol TEXT PRIMARY KEY,
  rate   TEXT NOT NULL
);
INSERT INTO vat_rates (symbol, rate) VALUES
  ('23', '23'), ('8', '8'), ('5', '5'), ('0', '0'), ('zw', '0'), ('np', '0');

CREATE TABLE goods (
  id           INTEGER PRIMARY KEY,
  code         TEXT NOT NULL UNIQUE,
  name         TEXT NOT NULL,
  description  TEXT,
  unit         TEXT NOT NULL DEFAULT 'szt.',
  vat_symbol   TEXT NOT NULL DEFAULT '23' REFERENCES vat_rates (symbol),
  ean          TEXT,
  weight       TEXT,
  manufacturer TEXT,
  kind         TEXT NOT NULL DEFAULT 'good' CHECK (kind IN ('good', 'service')),
  visible      INTEGER NOT NULL DEFAULT 1,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);

CREATE TABLE good_barcodes (
  good_id INTEGER NOT NULL REFERENCES goods (id),
  barcode TEXT NOT NULL,
  PRIMARY KEY (good_id, barcode)
);
CREATE INDEX good_barcodes_barcode ON good_barcodes (barcode);

CREATE TABLE price_lists (
  id       INTEGER PRIMARY KEY,
  name     TEXT NOT NULL UNIQUE,
  currency TEXT NOT NULL DEFAULT 'PLN'
);

CREATE TABLE prices (
  price_list_id INTEGER NOT NULL REFERENCES price_lists (id),
  good_id       INTEGER NOT NULL REFERENCES goods (id),
  net           TEXT NOT NULL,
  gross         TEXT NOT NULL,
  updated_at    TEXT NOT NULL,
  PRIMARY KEY (price_list_id, good_id)
);

CREATE TABLE stock (
  warehouse_id INTEGER NOT NULL REFERENCES warehouses (id),
  good_id      INTEGER NOT NULL REFERENCES goods (id),
  quantity     TEXT NOT NULL DEFAULT '0',
  reserved     TEXT NOT NULL DEFAULT '0',
  PRIMARY KEY (warehouse_id, good_id)
);

-- name_key, email_key and nip_key are magsync's matching keys (lower-cased
-- name and e-mail, NIP digits only). keys_source records the values they were
-- computed from, so rows edited by other programs are re-keyed before a load.
CREATE TABLE customers (
  id           INTEGER PRIMARY KEY,
  code         TEXT NOT NULL UNIQUE,
  name         TEXT NOT NULL,
  nip          TEXT,
  email        TEXT,
  phone        TEXT,
  street       TEXT,
  postcode     TEXT,
  city         TEXT,
  country_code TEXT,
  is_company   INTEGER NOT NULL DEFAULT 0,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  name_key     TEXT,
  email_key    TEXT,
  nip_key      TEXT,
  keys_source  TEXT
);
CREATE INDEX customers_name_key ON customers (name_key);
CREATE INDEX customers_email_key ON customers (email_key);
CREATE INDEX customers_nip_key ON customers (nip_key);

CREATE TABLE orders (
  id                 INTEGER PRIMARY KEY,
  number             TEXT NOT NULL UNIQUE CHECK (length(number) <= 50),
  confirmed_number   TEXT,
  shop               TEXT,
  customer_id        INTEGER REFERENCES customers (id),
  warehouse_id       INTEGER REFERENCES warehouses (id),
  ordered_at         TEXT,
  status             TEXT,
  description        TEXT,
  currency           TEXT,
  currency_rate      TEXT,
  buyer_name         TEXT,
  buyer_nip          TEXT,
  buyer_street       TEXT,
  buyer_postcode     TEXT,
  buyer_city         TEXT,
  buyer_country      TEXT,
  recipient_name     TEXT,
  recipient_street   TEXT,
  recipient_postcode TEXT,
  recipient_city     TEXT,
  recipient_country  TEXT,
  recipient_phone    TEXT,
  recipient_email    TEXT,
  total_net          TEXT,
  total_gross        TEXT,
  created_at         TEXT NOT NULL,
  updated_at         TEXT NOT NULL
);

CREATE TABLE order_lines (
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
  kind        TEXT NOT NULL CHECK (kind IN ('good', 'shipping', 'one-off')),
  PRIMARY KEY (order_id, line_no)
);

-- magsync's own bookkeeping.
CREATE TABLE magsync_batches (
  batch_id        TEXT PRIMARY KEY,
  flow            TEXT NOT NULL,
  shop            TEXT NOT NULL,
  stage           TEXT NOT NULL,
  channel         TEXT,
  sequence        INTEGER,
  tag_sha256      TEXT NOT NULL,
  parent          TEXT,
  edited          INTEGER NOT NULL DEFAULT 0,
  applied_at      TEXT NOT NULL,
  records         INTEGER NOT NULL,
  inserted        INTEGER NOT NULL,
  updated         INTEGER NOT NULL,
  unchanged       INTEGER NOT NULL,
  rejected        INTEGER NOT NULL
);

CREATE TABLE magsync_links (
  shop       TEXT NOT NULL,
  entity     TEXT NOT NULL,
  shop_id    TEXT NOT NULL,
  magazyn_id INTEGER NOT NULL,
  batch_id   TEXT NOT NULL,
  linked_at  TEXT NOT NULL,
  PRIMARY KEY (shop, entity, shop_id)
);
CREATE INDEX magsync_links_magazyn ON magsync_links (entity, magazyn_id);
