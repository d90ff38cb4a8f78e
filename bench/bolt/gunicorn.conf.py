# gunicorn settings for the Bolt reference bot: sync workers, as many as gunicorn's own
# guidance recommends (2 x cores + 1), on the loopback address bench/load.sh gives in BOLT_BIND.
import multiprocessing
import os
import sys

bind = os.environ.get("BOLT_BIND", "127.0.0.1:3902")
workers = int(os.environ.get("BOLT_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
accesslog = None
loglevel = "warning"


def on_starting(server):
    # Creates the schema once, before the workers fork.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import store

    store.init(os.environ["BOLT_DB_PATH"])
