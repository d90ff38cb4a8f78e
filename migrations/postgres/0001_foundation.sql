-- hereby's foundation: every delivery as received, incidents, roles, timeline and the outbox.
-- Times are milliseconds since the Unix epoch (UTC); Slack timestamps (`ts`) stay text.
-- Every table carries team_id: no query crosses workspaces.

-- Events API deliveries, committed before Slack gets its acknowledgement.
CREATE TABLE deliveries (
    id            BIGSERIAL PRIMARY KEY,
    team_id       TEXT    NOT NULL,
    event_id      TEXT    NOT NULL,
    event_type    TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    retry_num     BIGINT,
    received_at   BIGINT  NOT NULL,
    -- Set once processing committed its effects; NULL means still to do.
    processed_at  BIGINT,
    -- A worker's lease: another replica may take the delivery once it lapses.
    claimed_by    TEXT,
    claimed_until BIGINT,
    attempts      BIGINT  NOT NULL DEFAULT 0,
    last_error    TEXT,
    UNIQUE (team_id, event_id)
);
CREATE INDEX deliveries_pending ON deliveries (processed_at, id);

-- Incident numbers count up per workspace.
CREATE TABLE team_counters (
    team_id     TEXT   PRIMARY KEY,
    last_number BIGINT NOT NULL
);

CREATE TABLE incidents (
    id              BIGSERIAL PRIMARY KEY,
    team_id         TEXT    NOT NULL,
    number          BIGINT  NOT NULL,
    title           TEXT,
    status          TEXT    NOT NULL,
    severity        TEXT,
    declared_by     TEXT    NOT NULL,
    declared_at     BIGINT  NOT NULL,
    origin_channel  TEXT    NOT NULL,
    -- The declaring message, when the phrase declared it; its thread gets the pointer.
    origin_ts       TEXT,
    -- The thread the declaring message was in, if it was a reply.
    origin_thread   TEXT,
    channel_id      TEXT,
    channel_name    TEXT,
    welcome_ts      TEXT,
    created_at      BIGINT  NOT NULL,
    UNIQUE (team_id, number),
    UNIQUE (team_id, channel_id),
    -- One message declares at most one incident, however often it is delivered.
    UNIQUE (team_id, origin_channel, origin_ts)
);

-- Who held which role when; the current holder has no unassigned_at.
CREATE TABLE role_assignments (
    id            BIGSERIAL PRIMARY KEY,
    team_id       TEXT    NOT NULL,
    incident_id   BIGINT  NOT NULL REFERENCES incidents (id),
    role          TEXT    NOT NULL,
    user_id       TEXT    NOT NULL,
    assigned_by   TEXT    NOT NULL,
    assigned_at   BIGINT  NOT NULL,
    unassigned_at BIGINT
);
CREATE INDEX role_assignments_incident ON role_assignments (incident_id, role);

-- What happened, in order: the skeleton of the post-mortem.
CREATE TABLE timeline_entries (
    id          BIGSERIAL PRIMARY KEY,
    team_id     TEXT    NOT NULL,
    incident_id BIGINT  NOT NULL REFERENCES incidents (id),
    kind        TEXT    NOT NULL,
    actor       TEXT,
    occurred_at BIGINT  NOT NULL,
    detail      TEXT    NOT NULL
);
CREATE INDEX timeline_entries_incident ON timeline_entries (incident_id, occurred_at);

-- Slack side effects that must happen: retried until done, each exactly once.
CREATE TABLE outbox (
    id            BIGSERIAL PRIMARY KEY,
    team_id       TEXT    NOT NULL,
    incident_id   BIGINT  REFERENCES incidents (id),
    -- Names the effect (e.g. "incident:7:welcome"); the same effect is never queued twice.
    dedupe_key    TEXT    NOT NULL,
    step          TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    -- What earlier attempts learned (names tried, calls that may have gone through).
    progress      TEXT    NOT NULL DEFAULT '{}',
    status        TEXT    NOT NULL DEFAULT 'pending',
    attempts      BIGINT  NOT NULL DEFAULT 0,
    not_before    BIGINT  NOT NULL,
    claimed_by    TEXT,
    claimed_until BIGINT,
    last_error    TEXT,
    created_at    BIGINT  NOT NULL,
    done_at       BIGINT,
    UNIQUE (team_id, dedupe_key)
);
CREATE INDEX outbox_due ON outbox (status, not_before);
