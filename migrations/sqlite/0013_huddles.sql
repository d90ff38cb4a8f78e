-- Huddles held in an incident channel, once each: Slack tells of a huddle's end more than once
-- (and catching up reads it again from the history), and the timeline gets one entry for it.

CREATE TABLE huddles (
    team_id     TEXT    NOT NULL,
    incident_id BIGINT  NOT NULL,
    -- Slack's room ID (`R…`).
    room_id     TEXT    NOT NULL,
    PRIMARY KEY (team_id, incident_id, room_id)
);
