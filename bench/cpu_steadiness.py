#!/usr/bin/env python3
"""How steady this machine's CPU is, before a benchmark: times the same small piece of work
every few milliseconds and reports the windows in which it ran at least twice as slowly as its
median. On a shared virtual machine such windows come from the host (other guests on the same
cores), not from anything inside this one; every request that falls in one is slowed with it,
so they set a floor under any latency percentile that reaches into them.

    python3 bench/cpu_steadiness.py [--seconds 5] [--json]

Runs at real-time priority when allowed (root), so that nothing in this machine can delay the
work but interrupts; says which priority it had. Nothing else should run meanwhile. See
BENCHMARKS.md.
"""

import argparse
import json
import os
import statistics
import time

# About 0.3 ms of work on a 2026 server core; the pause after it keeps the probe at a few per
# cent of one core.
WORK_ITERATIONS = 5_000
PAUSE_S = 0.004
# Samples closer than this belong to the same slow window.
WINDOW_GAP_S = 0.05


def work():
    total = 0
    for i in range(WORK_ITERATIONS):
        total += i
    return total


def real_time_priority():
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
        return "real-time (SCHED_FIFO 50)"
    except (PermissionError, AttributeError, OSError):
        return "normal"


def probe(seconds):
    """(monotonic start, ms) of each piece of work, and the wall clock at the first."""
    samples = []
    wall, mono = time.time(), time.monotonic()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        began = time.monotonic()
        work()
        samples.append((began, (time.monotonic() - began) * 1000.0))
        time.sleep(PAUSE_S)
    return samples, wall - mono


def summarise(samples, wall_offset, seconds, priority):
    durations = sorted(d for _, d in samples)
    median = statistics.median(durations)
    slow = [(t, d) for t, d in samples if d >= 2 * median]
    windows = []
    for t, d in slow:
        if windows and t - windows[-1]["last"] <= WINDOW_GAP_S:
            window = windows[-1]
            window["last"], window["worst"] = t, max(window["worst"], d)
            window["samples"] += 1
        else:
            windows.append({"first": t, "last": t, "worst": d, "samples": 1})
    start = samples[0][0] if samples else 0.0
    spans = [w["last"] - w["first"] + w["worst"] / 1000.0 for w in windows]
    starts = [w["first"] - start for w in windows]
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    return {
        "seconds": seconds,
        "priority": priority,
        "samples": len(samples),
        "work_median_ms": round(median, 3),
        "work_p99_ms": round(durations[int(len(durations) * 0.99) - 1], 3) if durations else None,
        "slow_samples_share": round(len(slow) / len(samples), 4) if samples else None,
        "slow_windows": len(windows),
        "slow_window_every_s": round(statistics.median(gaps), 2) if gaps else None,
        "slow_window_longest_ms": round(max(spans) * 1000.0, 1) if spans else 0.0,
        "slowest_vs_median": round(max(durations) / median, 1) if durations else None,
        "started_unix": round(start + wall_offset, 6),
        "slow_windows_at_s": [round(s, 3) for s in starts],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not 0.5 <= args.seconds <= 600:
        parser.error("--seconds must be 0.5 to 600")
    priority = real_time_priority()
    samples, wall_offset = probe(args.seconds)
    result = summarise(samples, wall_offset, args.seconds, priority)
    if args.json:
        print(json.dumps(result))
        return
    print(
        "CPU steadiness over %(seconds)gs (priority %(priority)s): work median %(work_median_ms)s ms, "
        "p99 %(work_p99_ms)s ms; %(slow_windows)d windows at >= 2x the median "
        "(%(slow_samples_share)s of samples, about every %(slow_window_every_s)s s, longest "
        "%(slow_window_longest_ms)s ms, worst %(slowest_vs_median)sx)" % result
    )


if __name__ == "__main__":
    main()
