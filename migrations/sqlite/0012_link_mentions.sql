-- Which message mentioned which link. Deleting a message takes away its own mentions only, and
-- when it held a link's first mention, the link's label, author and time move to the next
-- mention (or the link goes, if no message mentions it any more). An edit counts a link once
-- per message, however often the edit arrives, and attachments' links too.

CREATE TABLE link_mentions (
    team_id       TEXT    NOT NULL,
    incident_id   BIGINT  NOT NULL,
    url           TEXT    NOT NULL,
    -- The mentioning message.
    ts            TEXT    NOT NULL,
    label         TEXT,
    mentioned_by  TEXT,
    mentioned_at  BIGINT  NOT NULL,
    PRIMARY KEY (team_id, incident_id, url, ts)
);

CREATE INDEX link_mentions_by_message ON link_mentions (team_id, incident_id, ts);

-- Links recorded before this table: their first mention, as far as it is known. Their later
-- mentions stay counted in `links.mentions` only.
INSERT INTO link_mentions (team_id, incident_id, url, ts, label, mentioned_by, mentioned_at)
SELECT team_id, incident_id, url, first_ts, label, first_by, first_at FROM links
WHERE first_ts IS NOT NULL;
