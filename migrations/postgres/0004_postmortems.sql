-- Post-mortem drafts (every version kept), action items, and the follow-up schedule that
-- reminds the team until every action item is done or won't be.

CREATE TABLE action_items (
    id           BIGSERIAL PRIMARY KEY,
    team_id      TEXT    NOT NULL,
    incident_id  BIGINT  NOT NULL REFERENCES incidents (id),
    number       BIGINT  NOT NULL,
    text         TEXT    NOT NULL,
    owner        TEXT,
    -- YYYY-MM-DD
    due          TEXT,
    -- 'open', 'done' or 'wontfix'
    status       TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    closed_at    BIGINT,
    UNIQUE (team_id, incident_id, number)
);

CREATE TABLE postmortems (
    id           BIGSERIAL PRIMARY KEY,
    team_id      TEXT    NOT NULL,
    incident_id  BIGINT  NOT NULL REFERENCES incidents (id),
    version      BIGINT  NOT NULL,
    markdown     TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    -- The Slack file it was shared as, once uploaded.
    file_id      TEXT,
    -- The effect that made it: a retried export reuses its version instead of adding one.
    source_key   TEXT,
    UNIQUE (team_id, incident_id, version),
    UNIQUE (team_id, source_key)
);

-- One row per resolved incident with open action items; claimed with a lease so that one
-- replica sends each reminder.
CREATE TABLE followups (
    team_id        TEXT    NOT NULL,
    incident_id    BIGINT  NOT NULL REFERENCES incidents (id),
    next_at        BIGINT  NOT NULL,
    reminders_sent BIGINT  NOT NULL DEFAULT 0,
    claimed_by     TEXT,
    claimed_until  BIGINT,
    PRIMARY KEY (team_id, incident_id)
);
CREATE INDEX followups_due ON followups (next_at);
