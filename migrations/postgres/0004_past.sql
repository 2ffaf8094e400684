-- Migration 4 (SQLite's keeps past versions for `--as-of`, README "Time
-- travel"): on PostgreSQL no table yet; `--as-of` replays the log here.
SELECT 1;
