#!/usr/bin/env bash
# The web view's incident page for incidents of 1,000 / 10,000 / 50,000 messages, and the last
# page of the 50,000-message channel log: median, min and max of 20 requests over loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --example web_bench >/dev/null
bin="${CARGO_TARGET_DIR:-target}/release/examples/web_bench"
for n in 1000 10000 50000; do
  "$bin" "$n" 20
done
"$bin" 50000 20 --page='/incidents/1?log=250'
