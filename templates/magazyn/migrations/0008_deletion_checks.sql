-- What a shop's last orders load compared when it looked for orders deleted
-- in the shop, so that the next one compares only what may have changed
-- since (flows/orders.rs, `mark_deleted`): the shop's order ids up to
-- covered_to (their count and an order-independent digest), and the
-- Magazyn's orders up to id seen_to, whose highest shop order id was
-- key_max. One row per shop and entity, replaced by each load, in the
-- load's own transaction.
CREATE TABLE magsync_checks (
  shop       TEXT NOT NULL,
  entity     TEXT NOT NULL,
  covered_to INTEGER NOT NULL,
  ids_count  INTEGER NOT NULL,
  ids_digest INTEGER NOT NULL,
  seen_to    INTEGER NOT NULL,
  key_max    INTEGER NOT NULL,
  batch_id   TEXT NOT NULL,
  checked_at TEXT NOT NULL,
  PRIMARY KEY (shop, entity)
);
