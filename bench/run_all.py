"""Run every benchmark (each in its own process) and summarise their JSON lines.

    .venv/bin/python -m bench            # or: .venv/bin/python -m bench.run_all
    .venv/bin/python -m bench fanout ingest --repeat 2 --out results.jsonl

Each benchmark prints its own figures and ends with one JSON line; this runner collects those
lines, prints one summary line per run, and (with --out) appends them to a JSON-lines file.
The machine's load average is printed too: on a shared 2-core machine the figures move with
whatever else runs (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from bench._common import ROOT, load_average

BENCHMARKS = ("fanout", "open_round", "tap_latency", "ingest", "gap_eval", "memory", "national",
              "national_queue")  # fmt: skip


def headline(result: dict[str, object]) -> str:
    name = result.get("bench")
    if name == "fanout":
        return (f"ratio {result['ratio']} (target ≥ 0.95), {result['ratio_vs_control']} of "
                f"the bare-PTB control's, opening {result['open_round_s']} s, "
                f"429s {result['http_429']}")  # fmt: skip
    if name == "open_round":
        runs = result["runs"]
        assert isinstance(runs, dict)
        return "; ".join(f"{backend} {r['open_median_s']} s (bare insert {r['bare_median_s']} s)"
                         for backend, r in runs.items()) + " (target < 0.5 s)"  # fmt: skip
    if name == "national_queue":
        queue, memory = result["queue"], result["memory"]
        assert isinstance(queue, dict) and isinstance(memory, dict)
        return (f"{queue['queued']:,} queued in {queue['bulk_s']} s (one per cohort: "
                f"{queue['baseline_extrapolated_s']} s); scheduler {memory['jobs']} jobs, "
                f"{memory['per_cohort_bytes']} B per cohort "
                f"(was {memory['baseline_per_cohort_bytes']})")  # fmt: skip
    if name == "tap_latency":
        return (f"tap p95 {result['draining_p95_s']} s while a round drains (target < 1), "
                f"{result['quiet_p95_s']} s with nothing draining; "
                f"429s {result['http_429']}")  # fmt: skip
    if name == "ingest":
        return (f"mentorbot {result['mentorbot_updates_per_s']}/s vs bare "
                f"{result['bare_updates_per_s']}/s = {result['ratio']} (target ≥ 0.8)")  # fmt: skip
    if name == "gap_eval":
        parts = []
        for backend in ("sqlite", "postgres"):
            r = result.get(backend)
            if isinstance(r, dict):
                answer = r["per_answer"]
                parts.append(f"{backend} p50 {answer['p50_ms']} / p99 {answer['p99_ms']} ms, "
                             f"{r['mismatches']} mismatches")  # fmt: skip
        return "; ".join(parts) + " (target p99 < 5 ms)"
    if name == "memory":
        return (f"mentorbot peak {result['mentorbot_peak_mb']} MB (target < 150), bare PTB "
                f"{result['bare_peak_mb']} MB")  # fmt: skip
    if name == "national":
        return (f"{result['slice_students']} of 50,000 at {result['ratio_steady']} of the bot's "
                f"limit (target ≥ 0.95), 429s {result['http_429']}, duplicates "
                f"{result['duplicates']}, peak RSS {result['peak_rss_by_size']} MB (target < 150), "
                f"≈ {result['year_total_mb']} MB per school year")  # fmt: skip
    return json.dumps(result)


def run_one(name: str) -> dict[str, object] | None:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", f"bench.{name}"], cwd=ROOT, capture_output=True, text=True
    )
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0:
        sys.stdout.write(proc.stderr[-3000:])
        print(f"== {name}: failed (exit {proc.returncode})", flush=True)
        return None
    last = [line for line in proc.stdout.splitlines() if line.startswith("{")][-1]
    result: dict[str, object] = json.loads(last)
    result["wall_s"] = round(time.monotonic() - started, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], default=[])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each benchmark")
    parser.add_argument("--out", type=Path, help="append the JSON lines to this file")
    args = parser.parse_args()
    summary: list[tuple[str, int, str, float]] = []
    for name in args.names or BENCHMARKS:
        for run in range(1, args.repeat + 1):
            print(f"== {name} run {run}/{args.repeat} (load {load_average()})", flush=True)
            result = run_one(name)
            if result is None:
                summary.append((name, run, "FAILED", 0.0))
                continue
            result["run"] = run
            if args.out:
                with args.out.open("a") as out:
                    out.write(json.dumps(result) + "\n")
            summary.append((name, run, headline(result), float(result["wall_s"])))  # type: ignore[arg-type]
    print()
    for name, run, line, wall in summary:
        print(f"{name:9} #{run}  {line}  [{wall:.0f}s]")
    print(json.dumps({"bench": "all", "runs": [
        {"bench": n, "run": r, "summary": s} for n, r, s, _ in summary
    ]}))  # fmt: skip


if __name__ == "__main__":
    main()
