"""Gap evaluation at scale: the alert check that runs after one completed reflection.

10,000 students × 40 weeks (400 cohorts of 25; about 2.5 million answers) are written straight
into the tables, on SQLite and on PostgreSQL. Then, for ≥ 200 sampled cohorts, one more
student completes the open week-40 reflection (untimed) and the check that the bot runs next
(`Services.evaluate_alerts`: `bot.alerts.evaluate_cohort` in its own transaction) is timed.

Side by side: the same evaluation when nothing about the cohort was evaluated before in this
process (`cold`: what an instance pays for the first answer of a cohort after a start, and
what a round closing pays) and the warm per-answer path. Target: per-answer p99 < 5 ms.

    .venv/bin/python -m bench.gap_eval [--cohorts 400] [--sampled 60] [--answers 4]
        [--backend sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench._common import (
    START,
    Shape,
    Timer,
    create_pg_database,
    drop_pg_database,
    emit,
    generate,
    load_average,
    postgres_available,
    summary_ms,
    write_postgres,
    write_sqlite,
)

TARGET_P99_MS = 5.0


async def complete_one(db, round_id: int, member_id: int, week: int) -> None:  # type: ignore[no-untyped-def]
    """What `checkin.save_choice` leaves behind for a student who finishes week `week`."""
    from bot.plans import default_plan
    from storage.repos.rounds import AnswerRepo, RoundRepo

    now = START + timedelta(weeks=week - 1, hours=2)
    rng = random.Random(member_id)
    async with db.transaction() as s:
        answers = AnswerRepo(s)
        for q in default_plan().week(week).questions:
            if q.kind == "rating":
                await answers.save(round_id, member_id, q.key, kind="rating", skill=q.skill,
                                   now=now, rating=rng.choice((2, 3, 3, 4, 4, 5)))  # fmt: skip
            elif q.kind == "choice":
                await answers.save(round_id, member_id, q.key, kind="choice", skill=None,
                                   now=now, choice=q.options[-1].value)  # fmt: skip
            elif not q.optional:
                await answers.save(round_id, member_id, q.key, kind="text", skill=None,
                                   now=now, text="Vandaag ging het goed.")  # fmt: skip
        await RoundRepo(s).mark_completed(round_id, member_id, now)


async def evaluate(db, cohort_id: int, now) -> float:  # type: ignore[no-untyped-def]
    """One alert check as `Services.evaluate_alerts` runs it; returns the seconds taken."""
    from bot.alerts import evaluate_cohort

    start = time.perf_counter()
    async with db.transaction() as s:
        await evaluate_cohort(s, cohort_id, now)
    return time.perf_counter() - start


async def full_reload(db, cohort_id: int):  # type: ignore[no-untyped-def]
    """The computation as it was before the per-answer path: load the whole cohort, build the
    snapshot, run every rule and the ok streaks of every finding and stored alert.
    Returns (seconds, active findings, ok streaks)."""
    from bot import gaps
    from bot.mentor_service import gap_settings_of, load_cohort_data
    from storage.repos.alerts import AlertRepo

    start = time.perf_counter()
    async with db.transaction() as s:
        data = await load_cohort_data(s, cohort_id)
        stored = [a.fingerprint for a in await AlertRepo(s).unresolved(cohort_id)]
    assert data is not None
    settings = gap_settings_of(data.cohort)
    snapshot = data.cohort_answers()
    active = {m.id for m in data.students.values() if m.is_active}
    findings = [
        f
        for f in gaps.evaluate(snapshot, settings)
        if f.student_id is None or f.student_id in active
    ]
    fps = sorted({*stored, *(f.fingerprint for f in findings)})
    ok = gaps.ok_streaks(fps, snapshot, settings)
    return time.perf_counter() - start, findings, ok


async def fast_view(db, cohort_id: int):  # type: ignore[no-untyped-def]
    """What the per-answer path decides from: its findings and ok streaks."""
    from bot.mentor_service import gap_check
    from storage.repos.alerts import AlertRepo

    async with db.transaction() as s:
        check = await gap_check(s, cohort_id)
        stored = [a.fingerprint for a in await AlertRepo(s).unresolved(cohort_id)]
    assert check is not None
    active = {m.id for m in check.data.students.values() if m.is_active}
    findings = [f for f in check.findings() if f.student_id is None or f.student_id in active]
    fps = sorted({*stored, *(f.fingerprint for f in findings)})
    return findings, check.ok_streaks(fps)


async def run_backend(
    backend: str, shape: Shape, tables, cohorts: int, answers: int, check_every: int
):  # type: ignore[no-untyped-def]
    from storage import migrate
    from storage.db import Database

    tmp = tempfile.TemporaryDirectory(prefix="bench-gap-")
    if backend == "sqlite":
        path = Path(tmp.name) / "gap.db"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = await create_pg_database()
    db = None
    gen = tables[0]
    try:
        await migrate.upgrade(url)
        with Timer() as load_t:
            if backend == "sqlite":
                await asyncio.to_thread(write_sqlite, str(path), tables[1])
            else:
                await write_postgres(url, tables[1])
        print(f"[{backend}] {sum(gen.counts.values()):,} rows written in {load_t.seconds:.1f}s",
              flush=True)  # fmt: skip
        db = Database(url)
        rng = random.Random(11)
        pending = {c: list(v) for c, v in gen.pending.items()}
        candidates = [c for c in gen.cohort_ids if len(pending[c]) >= answers]
        picked = rng.sample(candidates, min(cohorts, len(candidates)))
        now = START + timedelta(weeks=shape.weeks - 1, hours=3)
        cold: list[float] = []
        warm: list[float] = []
        reload: list[float] = []
        cpu_warm: list[float] = []
        checked = mismatches = 0
        for c in picked:
            # the first check of a cohort in this process (it also raises the cohort's
            # standing gaps, as the first check after the data was written would)
            cold.append(await evaluate(db, c, now))
            for _ in range(answers):
                student = pending[c].pop()
                await complete_one(db, gen.open_round[c], student, shape.weeks)
                cpu = time.process_time()
                warm.append(await evaluate(db, c, now))
                cpu_warm.append(time.process_time() - cpu)
                if len(warm) % check_every == 0:
                    seconds, findings, ok = await full_reload(db, c)
                    reload.append(seconds)
                    fast_findings, fast_ok = await fast_view(db, c)
                    checked += 1
                    if fast_findings != findings or fast_ok != ok:
                        mismatches += 1
                        print(f"[{backend}] MISMATCH cohort {c}", flush=True)
        alerts = await _count_alerts(db)
        return {
            "rows": gen.counts,
            "load_s": round(load_t.seconds, 1),
            "per_answer": summary_ms(warm),
            "per_answer_cpu": summary_ms(cpu_warm),
            "first_eval": summary_ms(cold),
            "full_reload_before": summary_ms(reload),
            "cross_checked": checked,
            "mismatches": mismatches,
            "alerts": alerts,
        }
    finally:
        if db is not None:
            await db.dispose()
        if backend == "postgres":
            await drop_pg_database(url)
        tmp.cleanup()


async def _count_alerts(db) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from storage.models import Alert

    async with db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(Alert)) or 0)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=400)
    parser.add_argument("--students", type=int, default=25)
    parser.add_argument("--weeks", type=int, default=40)
    parser.add_argument("--sampled", type=int, default=60, help="cohorts that get answers")
    parser.add_argument("--answers", type=int, default=4, help="completions per sampled cohort")
    parser.add_argument("--check-every", type=int, default=4, help="full reload + compare")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    shape = Shape(cohorts=args.cohorts, students=args.students, weeks=args.weeks)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    print(f"gap evaluation: {shape.cohorts} cohorts × {shape.students} students × "
          f"{shape.weeks} weeks; load {load_average()}", flush=True)  # fmt: skip
    with Timer() as gen_t:
        generated = generate(shape)
    print(f"generated {generated[0].counts} in {gen_t.seconds:.1f}s", flush=True)
    results: dict[str, dict[str, object]] = {}
    for backend in backends:
        if backend == "postgres" and not await postgres_available():
            print("[postgres] not reachable: skipped")
            continue
        results[backend] = await run_backend(
            backend, shape, generated, args.sampled, args.answers, args.check_every
        )
    print()
    print(f"{'backend':10} {'path':34} {'n':>5} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    labels = (
        ("per answer (wall)", "per_answer"),
        ("per answer (process CPU)", "per_answer_cpu"),
        ("first check of a cohort (cold)", "first_eval"),
        ("baseline: full reload, as before", "full_reload_before"),
    )
    for backend, r in results.items():
        for label, key in labels:
            x = r[key]
            assert isinstance(x, dict)
            print(f"{backend:10} {label:34} {x['n']:5d} {x['p50_ms']:9.2f} {x['p99_ms']:9.2f} "
                  f"{x['max_ms']:9.2f}")  # fmt: skip
        print(f"{backend:10} cross-checked {r['cross_checked']} against the full evaluation: "
              f"{r['mismatches']} mismatches")  # fmt: skip
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
