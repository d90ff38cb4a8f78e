# Durable storage for the Bolt reference bot (bench/bolt/app.py): one SQLite file in WAL mode
# with synchronous=FULL (the settings hereby's SQLite store runs with), one connection per
# thread; each delivery is committed before the request is acknowledged.
import sqlite3
import threading
import time

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    team_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    user_id TEXT,
    ts TEXT NOT NULL,
    text TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (team_id, event_id)
);
"""

_local = threading.local()


def _open(path):
    conn = sqlite3.connect(path, timeout=5.0, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def init(path):
    """Creates the schema and switches the file to WAL; run once, before the workers start."""
    conn = _open(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(SCHEMA)
    conn.close()


def connection(path):
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _open(path)
        _local.conn = conn
    return conn


def save_message(path, body, raw_body):
    """Stores one message delivery; a redelivery of the same event_id stores nothing."""
    event = body.get("event") or {}
    conn = connection(path)
    conn.execute(
        "INSERT INTO messages (team_id, event_id, channel_id, user_id, ts, text, payload, received_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (team_id, event_id) DO NOTHING",
        (
            body.get("team_id") or "",
            body.get("event_id") or "",
            event.get("channel") or "",
            event.get("user"),
            event.get("ts") or "",
            event.get("text") or "",
            raw_body,
            int(time.time() * 1000),
        ),
    )
