-- Migration 9: nothing on SQLite (one writer per file, whose program holds
-- the rules). PostgreSQL's migration 9 makes the database refuse a derived
-- row written outside the transaction of the event it derives from; the
-- two backends keep one version.
SELECT 1;
