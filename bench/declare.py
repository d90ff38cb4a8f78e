#!/usr/bin/env python3
"""Declares an incident in a hereby on this machine with a signed "I hereby declare this an
incident" message delivery, waits (at most 30 s) until the benchmark's fake Slack shows its
channel set up (the welcome pinned), and prints the channel's ID. Used by bench/load.sh and
bench/floor.sh.

    python3 bench/declare.py <hereby port> <fake Slack port> <signing secret>
"""
import hashlib, hmac, json, sys, time, urllib.request
port, slack_port, secret = sys.argv[1], sys.argv[2], sys.argv[3]
now = int(time.time())
body = json.dumps({
    "token": "verification-token", "team_id": "T111", "api_app_id": "A111",
    "event": {"type": "message", "text": "I hereby declare this an incident: checkout is failing",
              "user": "W0001", "ts": "%d.000100" % now, "team": "T111", "channel": "C111",
              "event_ts": "%d.000100" % now, "channel_type": "channel", "blocks": []},
    "type": "event_callback", "event_id": "EvBENCHDECLARE", "event_time": now,
    "authorizations": [{"enterprise_id": None, "team_id": "T111", "user_id": "UHEREBY",
                        "is_bot": True, "is_enterprise_install": False}],
}).encode()
sig = "v0=" + hmac.new(secret.encode(), b"v0:%d:" % now + body, hashlib.sha256).hexdigest()
req = urllib.request.Request("http://127.0.0.1:%s/slack/events" % port, data=body, headers={
    "content-type": "application/json", "x-slack-request-timestamp": str(now),
    "x-slack-signature": sig})
assert urllib.request.urlopen(req, timeout=5).status == 200
deadline = time.time() + 30
while time.time() < deadline:
    state = json.load(urllib.request.urlopen("http://127.0.0.1:%s/_bench/channels" % slack_port))
    ready = [c for c in state["channels"] if c["pins"]]
    if ready:
        print(ready[0]["id"])
        sys.exit(0)
    time.sleep(0.2)
sys.exit("bench: the incident channel was not set up within 30 s")
