-- Run once when magsync opens the SQLite Magazyn.
-- WAL: readers (review, reports) never block a load; FULL: a committed batch
-- survives a power cut; a 32 MB page cache keeps a large load from re-reading
-- its own indexes.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;
PRAGMA cache_size = -32768;
