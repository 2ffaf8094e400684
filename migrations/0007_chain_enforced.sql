-- Migration 7: nothing on SQLite (one writer per file, whose program holds
-- the rules). PostgreSQL's migration 7 makes the database itself refuse an
-- event that does not extend the chain; the two backends keep one version.
SELECT 1;
