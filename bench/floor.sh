#!/usr/bin/env bash
# The floor under acknowledgement latency on this machine, side by side with hereby: at a fixed
# rate (RATE, 200/s), rounds alternate between
#   floor     examples/ack_floor.rs answering each signed delivery at once (HTTP, the signature
#             check and the load generator: what any server pays here before storing anything),
#   durable   the same appending each delivery to a file and syncing it before answering, on a
#             writer thread of its own (one sync per batch: what any durable acknowledgement pays
#             here, with no database),
#   hereby    `hereby serve` on a fresh SQLite file, deliveries into an open incident's channel,
# all fed by examples/load.rs. Prints each server's median p50 / p99 / max and the CPU
# steadiness probe before and after. Everything runs on 127.0.0.1. See BENCHMARKS.md.
#
# Settings (environment): RUNS (5), DURATION seconds per run (6), RATE per second (200),
# CARGO_TARGET_DIR, HEREBY_BIN (another hereby binary to measure), STEADINESS_SECS (5).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
DURATION=${DURATION:-6}
RATE=${RATE:-200}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/hereby/target}
SECRET=bench-signing-secret-0123456789
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hereby-floor.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "floor: interrupted" >&2; exit 130' INT TERM

. bench/ports.sh

echo "== building (release)" >&2
cargo build --release --bin hereby --example load --example ack_floor >&2
HEREBY_BIN=${HEREBY_BIN:-$CARGO_TARGET_DIR/release/hereby}
LOAD_BIN=$CARGO_TARGET_DIR/release/examples/load
FLOOR_BIN=$CARGO_TARGET_DIR/release/examples/ack_floor

SLACK_PORT=$(free_port)
python3 bench/fake_slack.py "$SLACK_PORT" &
PIDS+=($!)
wait_port "$SLACK_PORT"

HEREBY_PORT=$(free_port)
SLACK_BOT_TOKEN=xoxb-bench-token SLACK_SIGNING_SECRET=$SECRET \
  SLACK_API_URL=http://127.0.0.1:$SLACK_PORT/api DATABASE_URL="sqlite://$WORK/hereby.db" \
  HEREBY_LISTEN="127.0.0.1:$HEREBY_PORT" "$HEREBY_BIN" serve 2>"$WORK/hereby.log" &
HEREBY_PID=$!
PIDS+=($HEREBY_PID)
wait_port "$HEREBY_PORT"
CHANNEL=$(python3 bench/declare.py "$HEREBY_PORT" "$SLACK_PORT" "$SECRET")

FLOOR_PORT=$(free_port)
"$FLOOR_BIN" --port "$FLOOR_PORT" --secret "$SECRET" --seconds 1800 &
FLOOR_PID=$!
DURABLE_PORT=$(free_port)
"$FLOOR_BIN" --port "$DURABLE_PORT" --secret "$SECRET" --seconds 1800 --durable "$WORK" &
DURABLE_PID=$!
PIDS+=($FLOOR_PID $DURABLE_PID)
wait_port "$FLOOR_PORT"
wait_port "$DURABLE_PORT"

# One run: $1 name, $2 port, $3 pid, $4 rate, $5 seconds; appends its JSON line to $WORK/<name>.
run() {
  "$LOAD_BIN" --url "http://127.0.0.1:$2/slack/events" --secret "$SECRET" --channel "$CHANNEL" \
    --rate "$4" --concurrency 256 --duration "$5" --server-pid "$3" --json >>"$WORK/$1"
}
for server in "floor $FLOOR_PORT $FLOOR_PID" "durable $DURABLE_PORT $DURABLE_PID" \
  "hereby $HEREBY_PORT $HEREBY_PID"; do
  set -- $server
  run warmup "$2" "$3" max 2
done

printf 'before: ' >"$WORK/steadiness"
python3 bench/cpu_steadiness.py --seconds "${STEADINESS_SECS:-5}" >>"$WORK/steadiness"
for round in $(seq "$RUNS"); do
  echo "round $round of $RUNS" >&2
  run floor "$FLOOR_PORT" "$FLOOR_PID" "$RATE" "$DURATION"
  run durable "$DURABLE_PORT" "$DURABLE_PID" "$RATE" "$DURATION"
  run hereby "$HEREBY_PORT" "$HEREBY_PID" "$RATE" "$DURATION"
done
printf 'after: ' >>"$WORK/steadiness"
python3 bench/cpu_steadiness.py --seconds "${STEADINESS_SECS:-5}" >>"$WORK/steadiness"

cat "$WORK/steadiness"
python3 - "$WORK" "$RATE" <<'EOF'
import json, statistics, sys
work, rate = sys.argv[1], sys.argv[2]
print("| %s/s, median of runs (each run's figures) | p50 ms | p99 ms | max ms | non-200 |" % rate)
print("|---|---:|---:|---:|---:|")
for name in ("floor", "durable", "hereby"):
    rows = [json.loads(l) for l in open("%s/%s" % (work, name)) if l.strip()]
    med = lambda k: statistics.median(r[k] for r in rows)
    each = lambda k: ", ".join("%.1f" % r[k] for r in rows)
    bad = sum((r.get("non_200") or 0) + (r.get("errors") or 0) + (r.get("timeouts") or 0) for r in rows)
    print("| %s (p99 by run: %s) | %.2f | %.2f | %.1f | %d |"
          % (name, each("p99_ms"), med("p50_ms"), med("p99_ms"), med("max_ms"), bad))
EOF
