# The Bolt for Python reference bot for bench/load.sh: what a team would write with Slack's
# own framework to keep a durable record of an incident channel. Bolt verifies each request's
# signature; the listener commits the message to SQLite, and only then does Bolt answer
# (process_before_response=True). Served by gunicorn through Bolt's WSGI adapter:
#   gunicorn -c gunicorn.conf.py app:api
# Settings: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL (a local fake Web API, which
# answers the auth.test Bolt makes at start) and BOLT_DB_PATH.
import os

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

import store

DB_PATH = os.environ["BOLT_DB_PATH"]

app = App(
    client=WebClient(
        # Taken out of the environment so that Bolt does not also read it (and warn).
        token=os.environ.pop("SLACK_BOT_TOKEN"),
        base_url=os.environ["SLACK_API_URL"].rstrip("/") + "/",
    ),
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    process_before_response=True,
)


@app.event("message")
def record_message(body, request):
    store.save_message(DB_PATH, body, request.raw_body)


api = SlackRequestHandler(app)
