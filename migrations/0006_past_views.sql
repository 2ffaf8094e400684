-- Migration 6: nothing on SQLite. PostgreSQL's migration 6 reshapes its
-- past views for its planner; the two backends keep one version number.
SELECT 1;
