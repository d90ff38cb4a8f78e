-- The record of an incident channel: every message (latest text, edit history, deletion
-- marks), links, participants, fix attempts, and cached user names.

CREATE TABLE messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id      TEXT    NOT NULL,
    incident_id  BIGINT  NOT NULL REFERENCES incidents (id),
    channel_id   TEXT    NOT NULL,
    ts           TEXT    NOT NULL,
    -- The parent's ts for thread replies (and for a thread's parent itself).
    thread_ts    TEXT,
    user_id      TEXT,
    -- 'person' or 'app' (alerts, deploy bots and other integrations).
    author_kind  TEXT    NOT NULL,
    author_name  TEXT,
    subtype      TEXT,
    -- Latest text, edits applied; NULL once deleted (the fact of the deletion stays).
    text         TEXT,
    -- File metadata (name, type, title, permalink) as JSON, never the bytes.
    files        TEXT,
    posted_at    BIGINT  NOT NULL,
    edited_at    BIGINT,
    deleted_at   BIGINT,
    highlighted  BIGINT  NOT NULL DEFAULT 0,
    -- 'event' when delivered live, 'history' when recovered from conversations.history.
    source       TEXT    NOT NULL,
    UNIQUE (team_id, channel_id, ts)
);
CREATE INDEX messages_incident ON messages (incident_id, posted_at);

CREATE TABLE message_edits (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id        TEXT    NOT NULL,
    message_id     BIGINT  NOT NULL REFERENCES messages (id),
    previous_text  TEXT,
    edited_at      BIGINT  NOT NULL
);
CREATE INDEX message_edits_message ON message_edits (message_id);

-- Every URL seen in the incident, first mention first; later mentions are counted.
CREATE TABLE links (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id      TEXT    NOT NULL,
    incident_id  BIGINT  NOT NULL REFERENCES incidents (id),
    url          TEXT    NOT NULL,
    label        TEXT,
    first_by     TEXT,
    first_at     BIGINT  NOT NULL,
    first_ts     TEXT,
    mentions     BIGINT  NOT NULL DEFAULT 1,
    UNIQUE (team_id, incident_id, url)
);

CREATE TABLE participants (
    team_id        TEXT    NOT NULL,
    incident_id    BIGINT  NOT NULL REFERENCES incidents (id),
    user_id        TEXT    NOT NULL,
    first_seen_at  BIGINT  NOT NULL,
    PRIMARY KEY (team_id, incident_id, user_id)
);

CREATE TABLE users (
    team_id       TEXT    NOT NULL,
    user_id       TEXT    NOT NULL,
    display_name  TEXT,
    real_name     TEXT,
    fetched_at    BIGINT  NOT NULL,
    PRIMARY KEY (team_id, user_id)
);

CREATE TABLE fix_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id      TEXT    NOT NULL,
    incident_id  BIGINT  NOT NULL REFERENCES incidents (id),
    number       BIGINT  NOT NULL,
    description  TEXT    NOT NULL,
    outcome      TEXT    NOT NULL,
    tried_by     TEXT    NOT NULL,
    tried_at     BIGINT  NOT NULL,
    outcome_by   TEXT,
    outcome_at   BIGINT,
    UNIQUE (team_id, incident_id, number)
);
