-- Migration 8: nothing on SQLite (one writer per file, whose program holds
-- the rules). PostgreSQL's migration 8 closes migration 7's exception for
-- a role that does not own the ledger filling an empty one; the two
-- backends keep one version.
SELECT 1;
