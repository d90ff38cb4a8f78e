-- The web view: signed-in sessions, single-use login links and Sign in with Slack attempts in
-- flight. Only SHA-256 hashes of the secrets are stored: a copy of the database lets no one in.

-- A browser signed in as a member of a workspace; the cookie holds the secret.
CREATE TABLE web_sessions (
    secret_hash  TEXT    PRIMARY KEY,
    team_id      TEXT    NOT NULL,
    user_id      TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

-- `hereby login-link <user>`: valid for ten minutes, used at most once.
CREATE TABLE web_login_links (
    secret_hash  TEXT    PRIMARY KEY,
    team_id      TEXT    NOT NULL,
    user_id      TEXT    NOT NULL,
    expires_at   BIGINT  NOT NULL,
    used_at      BIGINT
);

-- An OpenID Connect sign-in between the redirect to Slack and the callback: the state names
-- it, the nonce must come back inside Slack's ID token.
CREATE TABLE web_sign_ins (
    state        TEXT    PRIMARY KEY,
    nonce        TEXT    NOT NULL,
    expires_at   BIGINT  NOT NULL
);

-- The follow-up calendar feed's secret address, one per workspace. Kept as is (not hashed):
-- signed-in members are shown the address whenever they ask.
CREATE TABLE web_calendars (
    team_id      TEXT    PRIMARY KEY,
    secret       TEXT    NOT NULL UNIQUE
);
