#!/usr/bin/env bash
# Ingest benchmark: hereby vs a Bolt for Python reference bot (bench/bolt/), both fed signed
# Events API message deliveries by examples/load.rs over loopback, at a fixed rate and at the
# highest rate a bounded number of connections reaches. Prints the median of RUNS runs of each,
# side by side, with the ratio hereby/Bolt. Everything runs on 127.0.0.1: a local fake Slack
# Web API (bench/fake_slack.py) answers the calls both bots make. See BENCHMARKS.md.
#
# Settings (environment): RUNS (5), DURATION seconds per run (6), RATES per second for the
# fixed-rate runs ("200 1000"; empty for none), CONCURRENCIES connections for the max-rate runs
# ("32 128"; empty for none),
# ENGINE for hereby's store (sqlite, or postgres: a throwaway PostgreSQL cluster with fsync on,
# started from Debian's postgresql package; the Bolt reference always uses SQLite), BENCH_VENV
# (the Bolt virtualenv, $HOME/.cache/hereby/bench-venv), CARGO_TARGET_DIR, HEREBY_BIN (a hereby
# binary to measure instead of this checkout's release build, say an earlier commit's),
# BENCH_KEEP (set: keep the logs and databases of the run), PG_OPTS (more PostgreSQL server
# settings, e.g. "-c shared_preload_libraries=auto_explain -c auto_explain.log_min_duration=20ms"
# to log the plans of slow statements into the kept cluster's server.log), STEADINESS_SECS (how
# long bench/cpu_steadiness.py probes the CPU before and after the rounds, 5).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=${RUNS:-5}
DURATION=${DURATION:-6}
RATES=${RATES-200 1000}
CONCURRENCIES=${CONCURRENCIES-32 128}
ENGINE=${ENGINE:-sqlite}
VENV=${BENCH_VENV:-$HOME/.cache/hereby/bench-venv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/hereby/target}
SECRET=bench-signing-secret-0123456789
TOKEN=xoxb-bench-token
# The whole benchmark stops by itself after this long, whatever happens.
WATCHDOG_SECS=${WATCHDOG_SECS:-1800}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hereby-bench.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "${BENCH_KEEP:-}" ]; then
    echo "bench: logs and databases kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM

(
  trap 'kill -TERM "$nap" 2>/dev/null; exit 0' TERM
  sleep "$WATCHDOG_SECS" &
  nap=$!
  wait "$nap" && echo "bench: watchdog: over ${WATCHDOG_SECS}s, stopping" >&2 && kill -TERM $$
) &
PIDS+=($!)

# Stops one process this script started and forgets it.
stop() {
  local pid=$1 keep=() p
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${PIDS[@]}"; do
    [ "$p" = "$pid" ] || keep+=("$p")
  done
  PIDS=("${keep[@]}")
}

log() { printf '\n== %s\n' "$*" >&2; }

. bench/ports.sh

# Waits (at most 60 s) until GET http://127.0.0.1:$1$2 answers 200.
wait_http() {
  python3 - "$1" "$2" <<'EOF'
import sys, time, urllib.request
url = "http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2])
deadline = time.time() + 60
while time.time() < deadline:
    try:
        if urllib.request.urlopen(url, timeout=2).status == 200:
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.2)
sys.exit("bench: %s did not answer within 60 s" % url)
EOF
}

log "Building hereby and the load generator (release)"
cargo build --release --bin hereby --example load
HEREBY_BIN=${HEREBY_BIN:-$CARGO_TARGET_DIR/release/hereby}
LOAD_BIN=$CARGO_TARGET_DIR/release/examples/load

log "Installing the Bolt reference into $VENV"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r bench/bolt/requirements.txt

SLACK_PORT=$(free_port)
python3 bench/fake_slack.py "$SLACK_PORT" &
PIDS+=($!)
wait_http "$SLACK_PORT" /_bench/channels
SLACK_API_URL=http://127.0.0.1:$SLACK_PORT/api

# hereby's store: a fresh SQLite file, or a throwaway PostgreSQL cluster (fsync on, as in
# production) in $WORK, run by the postgres user when this script runs as root.
if [ "$ENGINE" = postgres ]; then
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PG_PORT=$(free_port)
  as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$1"; else bash -c "$1"; fi; }
  mkdir -p "$WORK/pg"
  if [ "$(id -u)" = 0 ]; then chown postgres "$WORK/pg" && chmod 755 "$WORK"; fi
  as_pg "'$PGBIN/initdb' -D '$WORK/pg/data' -A trust -U hereby >'$WORK/pg/initdb.log' 2>&1"
  as_pg "'$PGBIN/pg_ctl' -D '$WORK/pg/data' -w -l '$WORK/pg/server.log' -o \"-p $PG_PORT -k '$WORK/pg' -c listen_addresses=127.0.0.1 -c max_connections=100 ${PG_OPTS:-}\" start >/dev/null"
  pg_stop() { as_pg "'$PGBIN/pg_ctl' -D '$WORK/pg/data' -m fast stop" >/dev/null 2>&1 || true; }
  trap 'pg_stop; cleanup' EXIT
  "$PGBIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U hereby hereby
  HEREBY_DB="postgres://hereby@127.0.0.1:$PG_PORT/hereby"
  # Runs one query against hereby's database and prints its single value.
  hereby_sql() { "$PGBIN/psql" -X -q -t -A -h 127.0.0.1 -p "$PG_PORT" -U hereby hereby -c "$1"; }
  PG_VERSION=$("$PGBIN/postgres" --version)
else
  HEREBY_DB="sqlite://$WORK/hereby.db"
  hereby_sql() {
    python3 - "$WORK/hereby.db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
print(db.execute(sys.argv[2]).fetchone()[0])
PY
  }
fi

# One run of the load generator: $1 name (hereby|bolt), $2 URL, $3 server pid, $4 mode
# (fixed<rate> or max<connections>); appends its JSON line to $WORK/<name>.<mode>.
run_load() {
  local name=$1 url=$2 pid=$3 mode=$4 rate conc
  case $mode in
    fixed*) rate=${mode#fixed} conc=256 ;;
    max*) rate=max conc=${mode#max} ;;
  esac
  printf '%-6s %-9s ' "$name" "$mode" >&2
  [ "$name" = hereby ] && ack_buckets >"$WORK/ack.before"
  # hereby on PostgreSQL: the CPU the cluster's processes use counts too.
  local database=()
  if [ "$name" = hereby ] && [ "$ENGINE" = postgres ]; then
    database=(--database-pid "$(head -n 1 "$WORK/pg/data/postmaster.pid")")
  fi
  "$LOAD_BIN" --url "$url" --secret "$SECRET" --channel "$CHANNEL" --rate "$rate" \
    --concurrency "$conc" --duration "$DURATION" --server-pid "$pid" "${database[@]}" --json \
    | tee -a "$WORK/$name.$mode" >&2
  if [ "$name" = hereby ]; then
    ack_buckets >"$WORK/ack.after"
    paste "$WORK/ack.before" "$WORK/ack.after" | awk '{ printf "%s %d\n", $1, $4 - $2 }' \
      >>"$WORK/hereby.$mode.server"
    echo "-" >>"$WORK/hereby.$mode.server"
  fi
}

# hereby's own count of answered Events API requests by time to answer (its
# hereby_events_ack_seconds histogram): "<upper bound in s> <cumulative count>" per line.
ack_buckets() {
  curl -s "http://127.0.0.1:$HEREBY_PORT/metrics" |
    sed -n 's/^hereby_events_ack_seconds_bucket{le="\([^"]*\)"} \([0-9]*\)$/\1 \2/p'
}

# A short max-rate run whose figures are thrown away (connections, caches, database files).
warm_up() {
  "$LOAD_BIN" --url "$1" --secret "$SECRET" --channel "$CHANNEL" --rate max \
    --concurrency 32 --duration 2 --server-pid "$2" >/dev/null
}

# hereby processes acknowledged deliveries in the background: before the next run, wait (at
# most 120 s) until none is left, and note under mode $1 how long that took after the run.
hereby_drained() {
  local start now pending
  start=$(date +%s%N)
  while :; do
    pending=$(hereby_sql "SELECT COUNT(*) FROM deliveries WHERE processed_at IS NULL")
    now=$(date +%s%N)
    [ "$pending" = 0 ] && break
    [ $(((now - start) / 1000000)) -ge 120000 ] && break
    sleep 0.05
  done
  echo "$1 $(((now - start) / 1000000)) $pending" >>"$WORK/hereby.drain"
}

log "Starting hereby on $ENGINE"
HEREBY_PORT=$(free_port)
SLACK_BOT_TOKEN=$TOKEN SLACK_SIGNING_SECRET=$SECRET SLACK_API_URL=$SLACK_API_URL \
  DATABASE_URL="$HEREBY_DB" HEREBY_LISTEN="127.0.0.1:$HEREBY_PORT" \
  "$HEREBY_BIN" serve 2>"$WORK/hereby.log" &
HEREBY_PID=$!
PIDS+=($HEREBY_PID)
wait_http "$HEREBY_PORT" /healthz
HEREBY_URL=http://127.0.0.1:$HEREBY_PORT/slack/events

log "Declaring an incident with a signed message"
CHANNEL=$(python3 bench/declare.py "$HEREBY_PORT" "$SLACK_PORT" "$SECRET")
echo "incident channel: $CHANNEL" >&2

log "Starting the Bolt reference (gunicorn, Bolt's WSGI adapter)"
BOLT_PORT=$(free_port)
SLACK_BOT_TOKEN=$TOKEN SLACK_SIGNING_SECRET=$SECRET SLACK_API_URL=$SLACK_API_URL \
  BOLT_DB_PATH="$WORK/bolt.db" BOLT_BIND="127.0.0.1:$BOLT_PORT" \
  "$VENV/bin/gunicorn" --chdir "$ROOT/bench/bolt" -c "$ROOT/bench/bolt/gunicorn.conf.py" app:api \
  2>"$WORK/bolt.log" &
BOLT_PID=$!
PIDS+=($BOLT_PID)
BOLT_URL=http://127.0.0.1:$BOLT_PORT/slack/events
# Bolt answers 404 to a GET; wait until the port accepts connections instead, then let every
# worker finish importing Bolt and its auth.test.
wait_port "$BOLT_PORT" "the Bolt reference"
sleep 2

log "Warming up both"
warm_up "$HEREBY_URL" "$HEREBY_PID"
hereby_drained warmup
warm_up "$BOLT_URL" "$BOLT_PID"

MODES=""
for r in $RATES; do MODES="$MODES fixed$r"; done
for c in $CONCURRENCIES; do MODES="$MODES max$c"; done

# Rounds alternate between the two servers, so that whatever else the machine is doing
# weighs on both alike; hereby's backlog is worked off before the next run starts.
log "$RUNS rounds of ${DURATION}-s runs, each mode hereby then Bolt:$MODES"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >"$WORK/loadavg"
# How steady the CPU is just before the rounds (both servers idle): a shared virtual machine
# may run everything several times slower for a tenth of a second at a time, which sets a floor
# under every latency percentile that reaches into those windows.
printf 'before: ' >>"$WORK/loadavg"
python3 bench/cpu_steadiness.py --seconds "${STEADINESS_SECS:-5}" >>"$WORK/loadavg"
for round in $(seq "$RUNS"); do
  echo "round $round" >&2
  for mode in $MODES; do
    run_load hereby "$HEREBY_URL" "$HEREBY_PID" "$mode"
    hereby_drained "$mode"
    run_load bolt "$BOLT_URL" "$BOLT_PID" "$mode"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/loadavg"
printf 'after: ' >>"$WORK/loadavg"
python3 bench/cpu_steadiness.py --seconds "${STEADINESS_SECS:-5}" >>"$WORK/loadavg"

HEREBY_STATS="deliveries=$(hereby_sql "SELECT COUNT(*) FROM deliveries")"
HEREBY_STATS="$HEREBY_STATS unprocessed=$(hereby_sql "SELECT COUNT(*) FROM deliveries WHERE processed_at IS NULL")"
HEREBY_STATS="$HEREBY_STATS failed_attempts=$(hereby_sql "SELECT COUNT(*) FROM deliveries WHERE attempts > 1")"
HEREBY_STATS="$HEREBY_STATS messages=$(hereby_sql "SELECT COUNT(*) FROM messages")"
HEREBY_ERRORS=$(grep -c -E 'ERROR|WARN' "$WORK/hereby.log" || true)
HEREBY_SLOW=$(grep -c 'slow statement' "$WORK/hereby.log" || true)
BOLT_STATS=$(python3 - "$WORK/bolt.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print("messages=%d" % db.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
PY
)
BOLT_WORKERS=$(python3 -c "import multiprocessing; print(multiprocessing.cpu_count() * 2 + 1)")
stop "$HEREBY_PID"
stop "$BOLT_PID"

log "Results (median of $RUNS runs)"
cat "$WORK/loadavg" >&2
echo "hereby on $ENGINE${PG_VERSION:+ ($PG_VERSION)}; store: $HEREBY_STATS; warnings/errors in its log: $HEREBY_ERRORS (sqlx slow statements: $HEREBY_SLOW)" >&2
echo "Bolt store (SQLite): $BOLT_STATS; gunicorn sync workers: ${BOLT_WORKERS}" >&2
echo "hereby backlog worked off after each run (mode, ms, left): $(tr '\n' ';' <"$WORK/hereby.drain")" >&2
python3 - "$WORK" $MODES <<'EOF'
import json, statistics, sys
work, modes = sys.argv[1], sys.argv[2:]

def load(name, mode):
    with open("%s/%s.%s" % (work, name, mode)) as f:
        return [json.loads(l) for l in f if l.strip()]

def med(rows, key):
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else float("nan")

def total(rows, *keys):
    return sum(r.get(k) or 0 for r in rows for k in keys)

drain = {}
for line in open("%s/hereby.drain" % work):
    mode, millis, _left = line.split()
    drain.setdefault(mode, []).append(int(millis) / 1000)
res = {n: {m: load(n, m) for m in modes} for n in ("hereby", "bolt")}
rows = []
for mode in modes:
    label = "%s/s" % mode[5:] if mode.startswith("fixed") else "max, %s conns" % mode[3:]
    for key, unit, fmt in (("acked_per_s", "acked/s", "%.0f"), ("p50_ms", "ack p50 ms", "%.2f"),
                           ("p99_ms", "ack p99 ms", "%.2f"), ("max_ms", "ack max ms", "%.1f")):
        h, b = med(res["hereby"][mode], key), med(res["bolt"][mode], key)
        rows.append(("%s: %s" % (label, unit), fmt % h, fmt % b, "%.2f" % (h / b) if b else "-"))
    if mode.startswith("max"):
        # hereby acknowledges first and records afterwards; Bolt records before it
        # acknowledges. For hereby, recorded/s is a run's deliveries over the time until the
        # last of them was processed.
        recorded = [r["acked"] / (r["elapsed_s"] + d)
                    for r, d in zip(res["hereby"][mode], drain.get(mode, []))]
        h = statistics.median(recorded) if recorded else float("nan")
        b = med(res["bolt"][mode], "acked_per_s")
        rows.append(("%s: recorded/s (hereby: until its backlog is processed)" % label,
                     "%.0f" % h, "%.0f" % b, "%.2f" % (h / b) if b else "-"))
    # hereby's own view: from a verified request to its answer, without the loopback, the
    # generator's timers and its scheduling; a bucket's upper bound, medians over the runs.
    server = {"p50": [], "p99": []}
    with open("%s/hereby.%s.server" % (work, mode)) as f:
        for run in f.read().split("-\n"):
            buckets = [(float(le), int(n)) for le, n in (l.split() for l in run.splitlines())]
            if not buckets or buckets[-1][1] == 0:
                continue
            for q in ("p50", "p99"):
                need = buckets[-1][1] * (0.5 if q == "p50" else 0.99)
                server[q].append(next(le for le, n in buckets if n >= need) * 1000)
    if server["p99"]:
        rows.append(("%s: ack p50 / p99 inside hereby, ms (at most)" % label,
                     "%g / %g" % (statistics.median(server["p50"]), statistics.median(server["p99"])),
                     "-", "-"))
    d = drain.get(mode, [])
    rows.append(("%s: backlog after the run, s to process it (median / max)" % label,
                 "%.2f / %.2f" % (statistics.median(d), max(d)) if d else "-", "none", "-"))
    h = total(res["hereby"][mode], "non_200", "timeouts", "errors")
    b = total(res["bolt"][mode], "non_200", "timeouts", "errors")
    rows.append(("%s: errors + non-200 (all runs)" % label, str(h), str(b), "-"))
    h = total(res["hereby"][mode], "acked_over_3s")
    b = total(res["bolt"][mode], "acked_over_3s")
    rows.append(("%s: acks over 3 s (all runs)" % label, str(h), str(b), "-"))
    # What each side used of the two cores over a run (CPU seconds over its elapsed time;
    # medians): the server's own processes, PostgreSQL's for hereby on PostgreSQL, and the
    # generator's.
    def cores(name, key):
        vals = [r[key] / r["elapsed_s"] for r in res[name][mode]
                if r.get(key) is not None and r["elapsed_s"] > 0]
        return statistics.median(vals) if vals else float("nan")
    database = lambda name: any(r.get("database_cpu_s") is not None for r in res[name][mode])
    shown = lambda name: "%.2f%s; generator %.2f" % (
        cores(name, "server_cpu_s"),
        " + PostgreSQL %.2f" % cores(name, "database_cpu_s") if database(name) else "",
        cores(name, "client_cpu_s"))
    rows.append(("%s: CPU used, cores (server; generator)" % label, shown("hereby"), shown("bolt"), "-"))
for key, unit in (("server_vmhwm_kib", "peak RSS, VmHWM (MiB)"),
                  ("server_rss_sampled_peak_kib", "peak RSS, sampled (MiB)")):
    h = max(r[key] or 0 for m in modes for r in res["hereby"][m]) / 1024
    b = max(r[key] or 0 for m in modes for r in res["bolt"][m]) / 1024
    rows.append((unit, "%.1f" % h, "%.1f" % b, "%.2f" % (h / b) if b else "-"))
procs = max(r["server_processes"] or 0 for m in modes for r in res["bolt"][m])
rows.append(("server processes", "1", str(procs), "-"))
print("| measure | hereby | Bolt | hereby/Bolt |")
print("|---|---:|---:|---:|")
for r in rows:
    print("| %s | %s | %s | %s |" % r)
EOF
