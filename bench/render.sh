#!/usr/bin/env bash
# Post-mortem rendering at 1,000 / 10,000 / 50,000 messages: median of 5 runs each, and peak
# memory of a process that builds the record and renders it (one process per size).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --example render_bench >/dev/null
for n in 1000 10000 50000; do
  "${CARGO_TARGET_DIR:-target}/release/examples/render_bench" "$n" 5
done
