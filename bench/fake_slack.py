# A minimal stand-in for Slack's Web API for bench/load.sh: serves /api/<method> on loopback
# with the response shapes of tests/api/fake_slack.rs (auth.test, conversations.*, chat.*,
# pins.add, users.info, ...), so that neither hereby nor the Bolt reference talks to Slack.
# GET /_bench/channels lists the channels created so far, with their pins, so that the
# benchmark can wait until an incident's channel is ready.
#
# Usage: python3 bench/fake_slack.py PORT
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BOT_USER = "UHEREBY"
BOT_ID = "BHEREBY"

LOCK = threading.Lock()
STATE = {"channels": [], "next_ts": 1_790_000_000_000_100, "calls": {}}


def channel_json(c):
    return {
        "id": c["id"], "name": c["name"], "is_channel": True, "is_group": False, "is_im": False,
        "created": 1790000000, "is_archived": False, "is_general": False, "unlinked": 0,
        "name_normalized": c["name"], "is_shared": False, "creator": BOT_USER,
        "is_ext_shared": False, "is_org_shared": False, "is_member": True, "is_private": False,
        "is_mpim": False, "topic": {"value": c["topic"], "creator": "", "last_set": 0},
        "purpose": {"value": "", "creator": "", "last_set": 0}, "previous_names": [],
    }


def find_channel(cid):
    return next((c for c in STATE["channels"] if c["id"] == cid), None)


def apply(method, p):
    if method == "auth.test":
        return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "hereby",
                "team_id": "T111", "user_id": BOT_USER, "bot_id": BOT_ID}
    if method == "conversations.create":
        name = str(p.get("name", ""))
        if any(c["name"] == name for c in STATE["channels"]):
            return {"ok": False, "error": "name_taken"}
        c = {"id": "C%08d" % (len(STATE["channels"]) + 1), "name": name, "topic": "",
             "members": [BOT_USER], "pins": []}
        STATE["channels"].append(c)
        return {"ok": True, "channel": channel_json(c)}
    if method == "conversations.invite":
        c = find_channel(p.get("channel"))
        if c is None:
            return {"ok": False, "error": "channel_not_found"}
        users = p.get("users", "")
        users = users if isinstance(users, list) else [u for u in str(users).split(",") if u]
        if all(u in c["members"] for u in users):
            return {"ok": False, "error": "already_in_channel"}
        c["members"].extend(users)
        return {"ok": True, "channel": channel_json(c)}
    if method == "conversations.setTopic":
        c = find_channel(p.get("channel"))
        if c is None:
            return {"ok": False, "error": "channel_not_found"}
        c["topic"] = str(p.get("topic", ""))
        return {"ok": True, "topic": c["topic"]}
    if method == "chat.postMessage":
        STATE["next_ts"] += 100
        n = STATE["next_ts"]
        ts = "%d.%06d" % (n // 1_000_000, n % 1_000_000)
        msg = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID,
               "text": str(p.get("text", "")), "ts": ts}
        return {"ok": True, "channel": p.get("channel", ""), "ts": ts, "message": msg}
    if method == "chat.update":
        return {"ok": True, "channel": p.get("channel", ""), "ts": p.get("ts", ""),
                "text": p.get("text", "")}
    if method == "chat.postEphemeral":
        return {"ok": True, "message_ts": "1790000000.000001"}
    if method == "chat.getPermalink":
        ch, ts = str(p.get("channel", "")), str(p.get("message_ts", ""))
        return {"ok": True, "channel": ch,
                "permalink": "https://test.slack.com/archives/%s/p%s" % (ch, ts.replace(".", ""))}
    if method == "pins.add":
        c = find_channel(p.get("channel"))
        ts = str(p.get("timestamp", ""))
        if c is not None:
            if ts in c["pins"]:
                return {"ok": False, "error": "already_pinned"}
            c["pins"].append(ts)
        return {"ok": True}
    if method == "conversations.list":
        return {"ok": True, "channels": [channel_json(c) for c in STATE["channels"]],
                "response_metadata": {"next_cursor": ""}}
    if method in ("conversations.history", "conversations.replies"):
        # Nothing was said that hereby missed: the load arrives as events.
        return {"ok": True, "messages": [], "has_more": False,
                "response_metadata": {"next_cursor": ""}}
    if method == "users.info":
        u = str(p.get("user", ""))
        return {"ok": True, "user": {"id": u, "team_id": "T111", "name": u.lower(),
                                     "real_name": "Real " + u,
                                     "profile": {"display_name": "disp-" + u.lower(),
                                                 "real_name": "Real " + u}}}
    return {"ok": False, "error": "unknown_method"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _params(self):
        url = urllib.parse.urlsplit(self.path)
        p = dict(urllib.parse.parse_qsl(url.query))
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = self.headers.get("content-type") or ""
        if raw and ctype.startswith("application/json"):
            try:
                body = json.loads(raw)
                if isinstance(body, dict):
                    p.update(body)
            except ValueError:
                pass
        elif raw:
            p.update(urllib.parse.parse_qsl(raw.decode("utf-8", "replace")))
        return url.path, p

    def do_GET(self):
        path, p = self._params()
        if path == "/_bench/channels":
            with LOCK:
                self._send(200, {"channels": [dict(c) for c in STATE["channels"]],
                                 "calls": dict(STATE["calls"])})
            return
        self._dispatch(path, p)

    def do_POST(self):
        path, p = self._params()
        self._dispatch(path, p)

    def _dispatch(self, path, p):
        if not path.startswith("/api/"):
            self._send(404, {"ok": False, "error": "not_found"})
            return
        method = path[len("/api/"):]
        with LOCK:
            STATE["calls"][method] = STATE["calls"].get(method, 0) + 1
            result = apply(method, p)
        self._send(200, result)


def main():
    port = int(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
