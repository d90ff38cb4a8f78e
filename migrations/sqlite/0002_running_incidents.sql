-- Running an incident with /incident: its latest stakeholder update, when it was resolved,
-- a short description from the declare form, and a revision that names each change (so the
-- Slack effects a change calls for are queued once per change).
ALTER TABLE incidents ADD COLUMN latest_update TEXT;
ALTER TABLE incidents ADD COLUMN resolved_at BIGINT;
ALTER TABLE incidents ADD COLUMN description TEXT;
ALTER TABLE incidents ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
