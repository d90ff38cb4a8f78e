#!/usr/bin/env bash
# Runs hereby's cargo-fuzz targets, each for a bounded time, and fails if any finds a crash.
#
# Usage: fuzz/run.sh [SECONDS] [TARGET...]     e.g. fuzz/run.sh 120, fuzz/run.sh 30 channel_naming
#   SECONDS  time per target (default: $FUZZ_SECONDS, else 60)
#   TARGET   targets to run (default: all of them)
# Environment:
#   FUZZ_SECONDS           time per target when no argument is given
#   FUZZ_UPDATE_CORPUS=1   merge inputs that add coverage into fuzz/corpus/<target> (libFuzzer
#                          -set_cover_merge=1 -use_counters=0: only inputs that reach new code
#                          edges are kept, so the committed corpus stays small)
#   FUZZ_SANITIZER         address, none, ... (default: none: hereby has no unsafe code, and
#                          without ASan the build is lighter and runs are about twice as fast)
#   CARGO_TARGET_DIR       build directory (default: ~/.cache/hereby/fuzz-target)
#
# Uses the stable toolchain with RUSTC_BOOTSTRAP=1 (cargo-fuzz needs -Z flags) and one fuzzing
# job, so it stays within a 2-core machine. New inputs go to a scratch corpus under the target
# dir; fuzz/corpus/ is only read, unless FUZZ_UPDATE_CORPUS=1. Crashes are saved in
# fuzz/artifacts/<target>/ and can be replayed with `cargo fuzz run --sanitizer none <target> <file>`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

seconds="${FUZZ_SECONDS:-60}"
if [[ $# -gt 0 && "$1" =~ ^[0-9] ]]; then
    seconds="$1"
    shift
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -lt 1 ]]; then
    echo "run.sh: SECONDS must be a positive whole number, got '$seconds'" >&2
    exit 2
fi

# target:max_len (bytes). Slack caps a slash command's text at a few thousand characters and a
# payload at tens of kB; these lengths are enough to reach every branch and keep runs fast.
all_targets=(
    command_parser:1024
    declaration_trigger:2048
    channel_naming:512
    link_extraction:4096
    event_decoding:8192
    event_envelope:4096
)
declare -A max_len
declare -a order
for entry in "${all_targets[@]}"; do
    max_len[${entry%%:*}]=${entry##*:}
    order+=("${entry%%:*}")
done
if [[ $# -gt 0 ]]; then
    for t in "$@"; do
        [[ -n "${max_len[$t]:-}" ]] || { echo "run.sh: unknown target '$t' (known: ${order[*]})" >&2; exit 2; }
    done
    order=("$@")
fi

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hereby/fuzz-target}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
sanitizer="${FUZZ_SANITIZER:-none}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --version '^0.13' --locked
fi

echo "== building ${order[*]} (sanitizer: $sanitizer)"
if [[ ${#order[@]} -eq ${#all_targets[@]} ]]; then
    cargo fuzz build --sanitizer "$sanitizer"
else
    for t in "${order[@]}"; do
        cargo fuzz build --sanitizer "$sanitizer" "$t"
    done
fi
# The binaries are run directly (as `cargo fuzz run` does after building), so that a source
# change made while fuzzing does not start a rebuild inside a target's time budget.
bin_dir="$CARGO_TARGET_DIR/$(rustc -vV | sed -n 's/^host: //p')/release"

scratch="$CARGO_TARGET_DIR/hereby-fuzz-work"
logs="$scratch/logs"
mkdir -p "$logs"
failed=()
for t in "${order[@]}"; do
    work="$scratch/corpus/$t"
    mkdir -p "$work" "corpus/$t" "artifacts/$t"
    dict=()
    [[ -f "dicts/$t.dict" ]] && dict=("-dict=dicts/$t.dict")
    log="$logs/$t.log"
    echo "== $t: ${seconds}s, max_len ${max_len[$t]} (log: $log)"
    status=0
    # libFuzzer stops itself after -max_total_time; `timeout` is the backstop for a hang.
    timeout --kill-after=30 "$((seconds + 120))" \
        "$bin_dir/$t" "$work" "corpus/$t" -artifact_prefix="artifacts/$t/" \
        -max_total_time="$seconds" -max_len="${max_len[$t]}" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" >"$log" 2>&1 || status=$?
    runs="$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1 || true)"
    if [[ $status -ne 0 ]]; then
        echo "!! $t failed (exit $status); last lines of its log:"
        tail -n 40 "$log"
        failed+=("$t")
    else
        echo "   ok: ${runs:-no run count found}"
    fi
    if [[ "${FUZZ_UPDATE_CORPUS:-0}" == 1 ]]; then
        "$bin_dir/$t" -set_cover_merge=1 -use_counters=0 -max_len="${max_len[$t]}" \
            "corpus/$t" "$work" >>"$log" 2>&1
        echo "   corpus/$t: $(ls "corpus/$t" | wc -l) files, $(du -sh "corpus/$t" | cut -f1)"
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "== FAILED: ${failed[*]} (crash inputs in fuzz/artifacts/)"
    exit 1
fi
echo "== all targets ran ${seconds}s without a crash"
