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

-- Messages highlighted before this table existed keep one mark, for whoever marked them (that
-- was not recorded): the first removal of any mark takes it away, as it did before.
INSERT INTO highlights (team_id, channel_id, ts, marked_by)
SELECT team_id, channel_id, ts, 'before-0010' FROM messages WHERE highlighted = 1;
