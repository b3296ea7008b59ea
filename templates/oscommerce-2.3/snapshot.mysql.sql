-- One consistent view of the shop for the queries of one extract (InnoDB;
-- MyISAM tables have no snapshots: `magsync check` warns about them).
START TRANSACTION WITH CONSISTENT SNAPSHOT
