"""`python -m bench.national`: the options, the runs at each size, the report."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

import bench.national
from bench._common import (
    POSTGRES_ADMIN_URL,
    emit,
    load_average,
    postgres_available,
)
from bench.national.data import (
    INSTANCES,
    LIMIT,
    TARGET_MB,
    TARGET_RATIO,
    TARGET_TAP_P95,
    WEEK,
    ensure_template,
)
from bench.national.run import instance_env, one_size


def report(runs: list[dict[str, Any]]) -> None:
    print()
    cols = ("students", "slice_cohorts", "open_s", "push_ms_mean", "messages", "reached",
            "duplicates", "http_429", "http_429_at_s", "steady_msgs_per_s", "ratio_steady",
            "all_sends_per_s", "ratio_all_sends", "ratio_end_to_end", "elapsed_s", "quiet_taps",
            "quiet_tap_p50_s", "quiet_tap_p95_s", "taps", "tap_p50_s", "tap_p95_s")  # fmt: skip
    for col in cols:
        print(f"{col:>18} " + " ".join(f"{r.get(col)!s:>12}" for r in runs))
    for r in runs:
        print(f"{r['students']:>7} students: RSS after start {r['rss_started_mb']}, "
              f"peak {r['rss_peak_mb']} MB")  # fmt: skip
    big = runs[-1]
    rate = big["steady_msgs_per_s"]
    full = 50_000 / rate + big["push_ms_mean"] / 1000 * 2_000 / 2  # pushes overlap the sends
    print(f"extrapolated: 50,000 messages at {rate}/s ≈ {50_000 / rate / 60:.1f} min of "
          f"sending (ideal at {LIMIT:g}/s: {50_000 / LIMIT / 60:.1f} min); queuing all 2,000 "
          f"cohorts at {big['push_ms_mean']} ms each ≈ {big['push_ms_mean'] * 2:.0f} s, "
          f"overlapping the sends; total ≈ {full / 60:.1f} min")  # fmt: skip
    for r in runs:
        if "cpu_ms_per_msg" in r:
            print(f"CPU per message over {r['cpu_window_messages']} messages in "
                  f"{r['cpu_window_s']} s ({r['cpu_window_msgs_per_s']}/s), ms: "
                  f"{r['cpu_ms_per_msg']}; CPU s: {r['cpu_s']}; PostgreSQL commits, "
                  f"rollbacks over the whole round: {r.get('pg_commits_rollbacks')}")  # fmt: skip
    for r in runs:
        print(f"slowest taps (at_s after the round's start): {r.get('slow_taps')}; "
              f"driver loop lag p95/max {r.get('driver_loop_lag_p95_max_s')}")  # fmt: skip
    for r in runs:
        if "sizes" not in r:
            continue
        print(f"database, {r['students']:,} students:")
        for table, s in r["sizes"]["tables"].items():
            print(f"  {table:18} {s['rows']:>10,} rows {s['mb']:>9.1f} MB "
                  f"{s['bytes_per_row']!s:>6} B/row  per school year "
                  f"{s['year_rows']:>12,} rows ≈ {s['year_mb']:>8.0f} MB")  # fmt: skip
        print(f"  total per school year ≈ {r['sizes']['year_total_mb']:.0f} MB")
    for name, plan in big.get("explain", {}).items():
        print(f"EXPLAIN {name}:")
        for line in plan:
            print(f"  {line}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=(bench.national.__doc__ or "").splitlines()[0])
    parser.add_argument("--slice", type=int, default=120, help="cohorts that get the round")
    parser.add_argument("--sizes", default="10000,50000", help="students in the database")
    parser.add_argument("--weeks", type=int, default=4, help="weeks of history")
    parser.add_argument("--fresh", action="store_true", help="rebuild the template databases")
    parser.add_argument("--paid", action="store_true", help="MENTORBOT_PAID_BROADCAST=1")
    parser.add_argument("--by-hand", action="store_true", help="the rate divided by hand")
    parser.add_argument("--tappers", type=int, default=5, help="students tapping meanwhile")
    parser.add_argument("--no-sizes", action="store_true", help="skip the sizes and EXPLAIN")
    parser.add_argument("--queued-first", action="store_true",
                        help="queue the slice ahead, then make it due at once: the "
                        "senders' rate without the queueing (in the sandbox's process) "
                        "beside them")  # fmt: skip
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not await postgres_available():
        print(f"national: PostgreSQL not reachable at {POSTGRES_ADMIN_URL}; skipped")
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    env = instance_env(args.paid, args.by_hand)
    print(f"national: {INSTANCES} webhook instances on PostgreSQL ({env}), sandbox {LIMIT:g}/s "
          f"and 1/s per chat, week {WEEK} expectations for {args.slice} cohorts "
          f"({args.slice * 25:,} students) at database sizes {sizes}; "
          f"load {load_average()}", flush=True)  # fmt: skip
    runs = []
    for students in sizes:
        template = await ensure_template(students, args.weeks, args.fresh)
        print(f"-- {students:,} students (load {load_average()})", flush=True)
        explain = students == max(sizes)
        runs.append(
            await one_size(
                template,
                students,
                args.weeks,
                args.slice,
                env,
                explain,
                args.tappers,
                sizes=not args.no_sizes,
                release=args.queued_first,
            )
        )
    report(runs)
    peak = max(v for r in runs for v in r["rss_peak_mb"].values())
    big = runs[-1]
    emit(
        "national",
        slice_students=args.slice * 25,
        sizes=sizes,
        limit_per_s=LIMIT,
        ratio_steady=big["ratio_steady"],
        ratio_end_to_end=big["ratio_end_to_end"],
        ratio_all_sends=big["ratio_all_sends"],
        tap_p95_s=big.get("tap_p95_s"),
        quiet_tap_p95_s=big.get("quiet_tap_p95_s"),
        http_429=big["http_429"],
        duplicates=big["duplicates"],
        cpu_ms_per_msg=big.get("cpu_ms_per_msg"),
        peak_rss_mb=peak,
        peak_rss_by_size={r["students"]: max(r["rss_peak_mb"].values()) for r in runs},
        year_total_mb=big.get("sizes", {}).get("year_total_mb"),
        met_rate=big["ratio_all_sends"] >= TARGET_RATIO and big["http_429"] == 0,
        met_replies=big.get("tap_p95_s", 0) < TARGET_TAP_P95,
        met_memory=peak < TARGET_MB,
        load=load_average(),
        runs=[{k: v for k, v in r.items() if k not in ("explain",)} for r in runs],
    )


if __name__ == "__main__":
    asyncio.run(main())
