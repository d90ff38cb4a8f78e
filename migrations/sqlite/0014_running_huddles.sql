-- A huddle still going is noted too (`ended = 0`), so that a draft made meanwhile says a call
-- is under way; its end is noted once (`ended = 1`), however often Slack tells of it. Rows
-- from before were written only for huddles that had ended.

ALTER TABLE huddles ADD COLUMN ended BIGINT NOT NULL DEFAULT 1;
