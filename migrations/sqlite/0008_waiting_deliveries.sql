-- Deliveries still waiting to be processed, in arrival order, and nothing else: the index
-- holds only rows not processed yet, so marking a delivery processed removes it from the
-- index's concern instead of adding an entry, and taking the oldest waiting deliveries reads
-- them in order (no sort of every waiting delivery), however wrong the planner's guess of
-- how many wait. It replaces an index on (processed_at, id), whose order did not serve
-- "the oldest waiting first" and which every delivery entered twice.
CREATE INDEX deliveries_waiting ON deliveries (id) WHERE processed_at IS NULL;
DROP INDEX deliveries_pending;
