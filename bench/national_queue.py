"""National queueing: the Monday 08:00 job opening the expectations of 2,000 cohorts × 25
students on PostgreSQL, and what the scheduler keeps in memory for them.

Works on a copy of `bench/national/`'s template database (`mentorbot_bench_national_50000`;
written there, ~1 minute, when missing). Figures, each beside a baseline measured in the same
run:

* **Queueing.** The job of "mon 08:00" in Europe/Amsterdam fires (what APScheduler runs:
  `RoundScheduler._fire_slot`) at 08:00:30 of plan week 5 and opens the round of every cohort
  in bulk. Baseline: the scheduler's path before, `open_round` per cohort in its own
  transaction, for week 6 of the first `--baseline` cohorts, extrapolated to all of them.
* **Memory.** `tracemalloc`'s retained bytes after `RoundScheduler.start()` over the 2,000
  cohorts. Baseline: the jobs as they were, one APScheduler job per cohort and kind (sharing
  one trigger per weekly time), built in the same process.

    .venv/bin/python -m bench.national_queue [--students 50000] [--baseline 200]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

from bench._common import emit, load_average, postgres_available
from bench.national.data import MONDAY_0800, WEEK, admin, ensure_template, url_of

KIB = 1024


async def fresh_copy(template: str) -> str:
    name = f"{template}_queue"  # not bench/national/'s "_run": both may run at once
    await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for attempt in range(10):  # the template must have no other session for a moment
        try:
            await admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            return url_of(name)
        except Exception:
            if attempt == 9:
                raise
            await asyncio.sleep(3)
    raise AssertionError("unreachable")


class _Settings:
    grace_hours = 2.0


async def queue_figures(url: str, baseline: int) -> dict[str, Any]:
    from bot.schedule.clock import FakeClock
    from bot.schedule.rounds import open_round
    from bot.schedule.scheduler import RoundScheduler
    from bot.schedule.timespec import parse_weekly
    from storage.db import Database
    from storage.repos import CohortRepo

    db = Database(url)
    try:
        async with db.transaction() as s:
            cohort_ids = [c.id for c in await CohortRepo(s).all()]
        clock = FakeClock(MONDAY_0800 + timedelta(seconds=30))
        scheduler = RoundScheduler(db, _Settings(), clock=clock)
        started, cpu = time.perf_counter(), time.process_time()
        await scheduler._fire_slot(parse_weekly("mon 08:00"), "Europe/Amsterdam")
        bulk_s, bulk_cpu = time.perf_counter() - started, time.process_time() - cpu
        queued = await _count(db, "round:%")
        took = []
        for cohort_id in cohort_ids[:baseline]:
            due = MONDAY_0800 + timedelta(days=7)
            one = time.perf_counter()
            opened = await open_round(db, cohort_id, WEEK + 1, "expectations", due, due)
            assert opened.created and opened.queued == 25, opened
            took.append(time.perf_counter() - one)
    finally:
        await db.dispose()
    per_cohort = sum(took) / len(took)
    return {
        "cohorts": len(cohort_ids),
        "queued": queued,
        "bulk_s": round(bulk_s, 2),
        "bulk_cpu_s": round(bulk_cpu, 2),
        "bulk_rows_per_s": round(queued / bulk_s),
        "baseline_cohorts": len(took),
        "baseline_per_cohort_ms": round(per_cohort * 1000, 1),
        "baseline_extrapolated_s": round(per_cohort * len(cohort_ids), 1),
        "speedup": round(per_cohort * len(cohort_ids) / bulk_s, 1),
    }


async def _count(db: Any, pattern: str) -> int:
    from sqlalchemy import func, select

    from storage.models import OutboxMessage

    async with db.transaction() as s:
        query = select(func.count()).where(OutboxMessage.dedupe_key.like(pattern))
        return int(await s.scalar(query) or 0)


async def memory_figures(url: str) -> dict[str, Any]:
    """Bytes retained by the scheduler's jobs and per-cohort records (nothing is due: the
    clock is a month before the cohorts start), beside one job per cohort and kind."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.schedule.clock import FakeClock, WallClockTrigger
    from bot.schedule.scheduler import RoundScheduler, cohort_times
    from bot.schedule.timespec import cohort_zone
    from storage.db import Database
    from storage.repos import CohortRepo

    db = Database(url)
    try:
        async with db.transaction() as s:
            cohorts = await CohortRepo(s).all()
        scheduler = RoundScheduler(
            db, _Settings(), clock=FakeClock(datetime(2030, 8, 1, tzinfo=UTC))
        )
        shipped = await _retained(scheduler.start)
        jobs = len(scheduler.scheduler.get_jobs()) if scheduler.scheduler else 0
        await scheduler.shutdown()

        old = AsyncIOScheduler(timezone=UTC)

        async def per_cohort_jobs() -> None:  # the design before: a job per cohort and kind
            old.start()
            triggers: dict[Any, WallClockTrigger] = {}
            for cohort in cohorts:
                zone = cohort_zone(cohort)
                for kind, when in cohort_times(cohort).items():
                    trigger = triggers.setdefault((when, zone), WallClockTrigger(when, zone))
                    old.add_job(
                        _noop, trigger, args=(cohort.id, kind), id=f"cohort:{cohort.id}:{kind}"
                    )

        baseline = await _retained(per_cohort_jobs)
        old_jobs = len(old.get_jobs())
        old.shutdown(wait=False)
        await asyncio.sleep(0)
    finally:
        await db.dispose()
    return {
        "cohorts": len(cohorts),
        "jobs": jobs,
        "retained_kib": round(shipped / KIB),
        "per_cohort_bytes": round(shipped / len(cohorts)),
        "baseline_jobs": old_jobs,
        "baseline_retained_kib": round(baseline / KIB),
        "baseline_per_cohort_bytes": round(baseline / len(cohorts)),
    }


async def _noop(*_args: Any) -> None:
    return None


async def _retained(build: Any) -> int:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    await build()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50000)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--baseline", type=int, default=200, help="cohorts opened one by one")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not await postgres_available():
        print("national_queue: PostgreSQL not reachable; skipped")
        return
    template = await ensure_template(args.students, args.weeks, fresh=False)
    print(f"national_queue: {args.students:,} students on PostgreSQL; load {load_average()}",
          flush=True)  # fmt: skip
    url = await fresh_copy(template)
    memory = await memory_figures(url)
    print(f"memory: {memory}", flush=True)
    queue = await queue_figures(url, args.baseline)
    print(f"queueing: {queue}", flush=True)
    await admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    q, m = queue, memory
    print(f"the job of mon 08:00 queued {q['queued']:,} messages of {q['cohorts']:,} cohorts "
          f"in {q['bulk_s']} s ({q['bulk_cpu_s']} s CPU here); one transaction per cohort: "
          f"{q['baseline_per_cohort_ms']} ms each, {q['baseline_extrapolated_s']} s for all "
          f"({q['speedup']}x); scheduler {m['jobs']} jobs, {m['retained_kib']} KiB "
          f"({m['per_cohort_bytes']} B per cohort) against {m['baseline_jobs']} jobs, "
          f"{m['baseline_retained_kib']} KiB ({m['baseline_per_cohort_bytes']} B per cohort); "
          f"load {load_average()}")  # fmt: skip
    emit("national_queue", students=args.students, queue=queue, memory=memory, load=load_average())


if __name__ == "__main__":
    asyncio.run(main())
