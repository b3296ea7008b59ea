-- A link whose shop record was deleted in the shop is retired, not removed:
-- retired_at says when (the batch that saw it gone is in batch_id). A
-- retired link matches nothing and frees its Magazyn record for the
-- matching steps; should the shop hand the same id out again (InnoDB of
-- MySQL < 8 resets AUTO_INCREMENT on restart), the new record goes through
-- the matching steps afresh and a new link replaces the retired one.
ALTER TABLE magsync_links ADD retired_at VARCHAR(32);
