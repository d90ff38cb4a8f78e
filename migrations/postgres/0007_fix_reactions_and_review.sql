-- A fix attempt recorded from a reaction remembers its message, so that outcome reactions on
-- that message find it and the draft does not list it again among possible fix attempts.
ALTER TABLE fix_attempts ADD COLUMN message_ts TEXT;
CREATE UNIQUE INDEX fix_attempts_by_message ON fix_attempts (team_id, incident_id, message_ts);

-- The post-mortem's own progress (draft, in-review, final; NULL is draft) and its owner (NULL:
-- the incident commander).
ALTER TABLE incidents ADD COLUMN postmortem_status TEXT;
ALTER TABLE incidents ADD COLUMN postmortem_owner TEXT;
