"""`python -m bench.gap_eval`: the options, both backends, the report."""

from __future__ import annotations

import argparse
import asyncio

from bench._common import (
    Shape,
    emit,
    load_average,
    postgres_available,
)
from bench.gap_eval.data import prepare
from bench.gap_eval.run import TARGET_P99_MS, run_backend


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=400)
    parser.add_argument("--students", type=int, default=25)
    parser.add_argument("--weeks", type=int, default=40)
    parser.add_argument("--sampled", type=int, default=60, help="cohorts that get answers")
    parser.add_argument("--answers", type=int, default=4, help="completions per sampled cohort")
    parser.add_argument("--check-every", type=int, default=4, help="full reload + compare")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--fresh", action="store_true", help="write the data again")
    parser.add_argument("--no-autoanalyze", action="store_true",
                        help="PostgreSQL: no analyses during the run (this server's autovacuum "
                             "is off), as the bench ran before 7 Dec 2026")  # fmt: skip
    args = parser.parse_args()
    shape = Shape(cohorts=args.cohorts, students=args.students, weeks=args.weeks)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    print(f"gap evaluation: {shape.cohorts} cohorts × {shape.students} students × "
          f"{shape.weeks} weeks; load {load_average()}", flush=True)  # fmt: skip
    if "postgres" in backends and not await postgres_available():
        print("[postgres] not reachable: skipped")
        backends.remove("postgres")
    gen, templates = await prepare(backends, shape, args.fresh)
    results: dict[str, dict[str, object]] = {}
    for backend in backends:
        results[backend] = await run_backend(
            backend,
            shape,
            gen,
            templates[backend],
            args.sampled,
            args.answers,
            args.check_every,
            autoanalyze=not args.no_autoanalyze,
        )
    print()
    print(f"{'backend':10} {'path':34} {'n':>5} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    labels = (
        ("per answer (wall)", "per_answer"),
        ("per answer (process CPU)", "per_answer_cpu"),
        ("  quiet check (CPU; one statement)", "quiet_cpu"),
        ("  quiet check (wall)", "quiet_wall"),
        ("  acting on an alert (CPU)", "acting_cpu"),
        ("  acting on an alert (wall)", "acting_wall"),
        ("first check of a cohort (cold)", "first_eval"),
        ("baseline: full reload, as before", "full_reload_before"),
    )
    for backend, r in results.items():
        for label, key in labels:
            x = r.get(key)
            if not isinstance(x, dict):
                continue
            print(f"{backend:10} {label:34} {x['n']:5d} {x['p50_ms']:9.2f} {x['p99_ms']:9.2f} "
                  f"{x['max_ms']:9.2f}")  # fmt: skip
        print(f"{backend:10} cross-checked {r['cross_checked']} against the full evaluation: "
              f"{r['mismatches']} mismatches")  # fmt: skip
        if r.get("analyzed") is not None:
            print(f"{backend:10} ANALYZE as autovacuum would (autoanalyze.py): "
                  f"{r['analyzed'] or 'none due'}")  # fmt: skip
        g: dict[str, float] = r["gc"]  # type: ignore[assignment]
        print(f"{backend:10} garbage collector: {g['full_n']} full collections, "
              f"{g['full_total_ms']:.0f} ms in all, p50 {g['full_p50_ms']:.1f}, longest "
              f"{g['full_max_ms']:.1f} ms; in the warm checks: {g['warm_checks_with_gc']} "
              f"of them, p99 {g['warm_gc_p99_ms']:.2f}, longest "
              f"{g['warm_gc_max_ms']:.1f} ms")  # fmt: skip
    ok = all(r["per_answer"]["p99_ms"] < TARGET_P99_MS and r["mismatches"] == 0  # type: ignore[index]
             for r in results.values())  # fmt: skip
    ratios = {
        b: round(r["full_reload_before"]["p50_ms"] / r["per_answer"]["p50_ms"], 1)  # type: ignore[index]
        for b, r in results.items()
    }
    print(f"baseline/per-answer p50 ratio: {ratios}; target p99 < {TARGET_P99_MS} ms: "
          f"{'met' if ok else 'MISSED'}")  # fmt: skip
    emit(
        "gap_eval",
        students=shape.cohorts * shape.students,
        weeks=shape.weeks,
        target_p99_ms=TARGET_P99_MS,
        met=ok,
        speedup_p50=ratios,
        **{b: r for b, r in results.items()},
    )


if __name__ == "__main__":
    asyncio.run(main())
