-- The queue tables are updated a few times per row (claimed, then done): vacuum and analyze
-- them after a thousand dead or changed rows rather than after a fifth of the table, so that
-- claims do not wade through the dead versions of rows already processed, and the planner
-- knows how many rows wait. Set once here (earlier versions set it at every start), so that a
-- database administrator's own tuning of these tables is kept.
ALTER TABLE deliveries SET (autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.0, autovacuum_analyze_threshold = 1000);
ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.0, autovacuum_analyze_threshold = 1000);
