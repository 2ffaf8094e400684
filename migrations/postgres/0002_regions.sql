-- Migration 2 (PostgreSQL): the region table, seeded by the program.
CREATE TABLE regions (
    region_id   TEXT COLLATE "C" PRIMARY KEY,
    mainland    BIGINT NOT NULL CHECK (mainland IN (0, 1)),
    updated_seq BIGINT NOT NULL    -- 0 for the built-in seed
);
