-- Migration 2: the region table (README "Regions"). Seeded by the program
-- with the provider's public regions (updated_seq 0); `region set` writes
-- the rest, each a `region_set` event.
CREATE TABLE IF NOT EXISTS regions (
    region_id   TEXT PRIMARY KEY,
    mainland    INTEGER NOT NULL CHECK (mainland IN (0, 1)),
    updated_seq INTEGER NOT NULL    -- 0 for the built-in seed
) WITHOUT ROWID;
