-- Who highlights a message: each person's highlight reaction, and the pin. A message stays a
-- key event while any of them is left, so one person taking their reaction away does not
-- unmark what others still mark.

CREATE TABLE highlights (
    team_id     TEXT    NOT NULL,
    channel_id  TEXT    NOT NULL,
    ts          TEXT    NOT NULL,
    -- A user ID for a reaction, 'pin' for the pin.
    marked_by   TEXT    NOT NULL,
    PRIMARY KEY (team_id, channel_id, ts, marked_by)
);
