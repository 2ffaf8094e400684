-- Migration 5: nothing on SQLite. PostgreSQL's migration 4 was released
-- empty; its past versions (the tables SQLite has had since migration 4)
-- came in migration 5, and the two backends keep one version number.
SELECT 1;
