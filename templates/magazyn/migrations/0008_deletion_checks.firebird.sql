-- What a shop's last orders load compared when it looked for orders deleted
-- in the shop, so that the next one compares only what may have changed
-- since (flows/orders.rs, `mark_deleted`): the shop's order ids up to
-- covered_to (their count and an order-independent digest), and the
-- Magazyn's orders up to id seen_to, whose highest shop order id was
-- key_max. One row per shop and entity, replaced by each load, in the
-- load's own transaction.
CREATE TABLE magsync_checks (
  shop       VARCHAR(100) NOT NULL,
  entity     VARCHAR(32) NOT NULL,
  covered_to BIGINT NOT NULL,
  ids_count  BIGINT NOT NULL,
  ids_digest BIGINT NOT NULL,
  seen_to    BIGINT NOT NULL,
  key_max    BIGINT NOT NULL,
  batch_id   VARCHAR(200) NOT NULL,
  checked_at VARCHAR(32) NOT NULL,
  PRIMARY KEY (shop, entity)
);
