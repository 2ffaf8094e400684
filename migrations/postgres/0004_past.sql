-- Migration 4: released empty on PostgreSQL (SQLite's keeps past versions
-- from here); PostgreSQL's past versions are migration 5.
SELECT 1;
