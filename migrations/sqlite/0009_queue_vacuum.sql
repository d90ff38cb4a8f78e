-- PostgreSQL's migration 0009 tunes how often autovacuum visits the queue tables. SQLite has
-- no autovacuum of that kind (hereby's checkpoint job keeps the write-ahead log short), so
-- there is nothing to change here; the file keeps both directories' migrations in step.
SELECT 1;
