"""One backend's run: cold and warm checks on the sampled cohorts, the baseline every 4th sample,
the cross-check."""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event

from bench._common import (
    POSTGRES_ADMIN_URL,
    START,
    Generated,
    Shape,
    Timer,
    drop_pg_database,
    summary_ms,
)
from bench.gap_eval.autoanalyze import AutoAnalyze
from bench.gap_eval.data import pg_admin
from bench.gap_eval.gcstats import GcPauses
from bench.gap_eval.steps import complete_one, evaluate, fast_view, full_reload

TARGET_P99_MS = 5.0
WARM_UP_COHORTS = 10


async def run_backend(
    backend: str,
    shape: Shape,
    gen: Generated,
    template: str,
    cohorts: int,
    answers: int,
    check_every: int,
    autoanalyze: bool = True,
):  # type: ignore[no-untyped-def]
    from bot.gaps.cache import GapCache
    from storage.db import Database
    from storage.repos.core import Direct

    cache = GapCache(freeze=True)  # the one a running bot's Services holds
    tmp = tempfile.TemporaryDirectory(prefix="bench-gap-")
    with Timer() as copy_t:
        if backend == "sqlite":
            path = Path(tmp.name) / "gap.db"
            await asyncio.to_thread(shutil.copyfile, template, path)
            url = f"sqlite+aiosqlite:///{path}"
        else:
            url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/mentorbot_bench_{uuid.uuid4().hex[:10]}"
            await pg_admin(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}" TEMPLATE "{template}"')
    # data written by an older schema gets this one's migrations (0008: the change counter)
    from storage import migrate

    await migrate.upgrade(url)
    print(f"[{backend}] copy of the data ready in {copy_t.seconds:.1f}s", flush=True)
    db = None
    # PostgreSQL: the statistics kept as a live server's autovacuum keeps them (autoanalyze.py)
    analyze = AutoAnalyze(url) if backend == "postgres" and autoanalyze else None
    pauses = GcPauses()  # the collector's pauses during the samples
    try:
        db = Database(url)
        # writes per check: a quiet check reads (one statement on the driver's connection, no
        # transaction: `check_alerts`); one that acts on an alert commits a transaction
        # (SQLite), or runs its writes in autocommit on the read's connection (PostgreSQL: on
        # the kept reader's driver, `storage.repos.core.rows`, which no event sees)
        commits = [0]

        def count(*_args: object) -> None:
            commits[0] += 1

        def writes() -> int:
            return commits[0] + Direct.statements

        event.listen(db.engine.sync_engine, "commit", count)
        event.listen(db.engine.sync_engine, "after_cursor_execute", count)
        rng = random.Random(11)
        pending = {c: list(v) for c, v in gen.pending.items()}
        candidates = [c for c in gen.cohort_ids if len(pending[c]) >= answers]
        picked = rng.sample(candidates, min(cohorts, len(candidates)))
        now = START + timedelta(weeks=shape.weeks - 1, hours=3)
        others = [c for c in candidates if c not in picked][:WARM_UP_COHORTS]
        acted = await _warm_up(db, others, gen, shape, pending, answers, now, cache, writes)
        print(f"[{backend}] warm-up: {len(others)} cohorts, {acted} checks acted", flush=True)
        cold: list[float] = []
        warm: list[float] = []
        reload: list[float] = []
        cpu_warm: list[float] = []
        by_kind: dict[str, list[float]] = {"quiet": [], "acting": []}  # CPU, as cpu_warm
        wall_by_kind: dict[str, list[float]] = {"quiet": [], "acting": []}
        checked = mismatches = 0
        pauses.install()
        for c in picked:
            # the first check of a cohort in this process (its standing gaps were raised when
            # the data was written: `data._raise_standing`)
            cold.append(await evaluate(db, c, now, cache))
            if analyze is not None:  # untimed, as autovacuum runs beside the bot
                await analyze.run()
            for _ in range(answers):
                await _complete_next(db, gen, shape, pending, c)
                cpu, ran = time.process_time(), writes()
                pauses.begin_warm()
                warm.append(await evaluate(db, c, now, cache))
                pauses.end_warm()
                cpu_warm.append(time.process_time() - cpu)
                kind = "quiet" if writes() == ran else "acting"
                by_kind[kind].append(cpu_warm[-1])
                wall_by_kind[kind].append(warm[-1])
                if len(warm) % check_every == 0:
                    seconds, findings, ok = await full_reload(db, c)
                    reload.append(seconds)
                    fast_findings, fast_ok = await fast_view(db, c, cache)
                    checked += 1
                    if fast_findings != findings or fast_ok != ok:
                        mismatches += 1
                        print(f"[{backend}] MISMATCH cohort {c}", flush=True)
        pauses.close()
        alerts = await _count_alerts(db)
        return {
            "rows": gen.counts,
            "per_answer": summary_ms(warm),
            "per_answer_cpu": summary_ms(cpu_warm),
            **{f"{k}_cpu": summary_ms(v) for k, v in by_kind.items() if v},
            **{f"{k}_wall": summary_ms(v) for k, v in wall_by_kind.items() if v},
            "first_eval": summary_ms(cold),
            "full_reload_before": summary_ms(reload),
            "cross_checked": checked,
            "mismatches": mismatches,
            "alerts": alerts,
            "gc": pauses.summary(),
            "analyzed": None if analyze is None else analyze.analyzed,
        }
    finally:
        pauses.close()
        if analyze is not None:
            await analyze.close()
        if db is not None:
            await db.dispose()
        if backend == "postgres":
            await drop_pg_database(url)
        tmp.cleanup()


async def _complete_next(db, gen, shape, pending, cohort_id: int) -> None:  # type: ignore[no-untyped-def]
    """One more student completes the open week, her werkbegeleider taps it (untimed)."""
    student = pending[cohort_id].pop()
    observed = (gen.open_observation[cohort_id], gen.supervisor[student])
    await complete_one(db, gen.open_round[cohort_id], student, shape.weeks, observed)


async def _warm_up(db, cohorts, gen, shape, pending, answers, now, cache, writes) -> int:  # type: ignore[no-untyped-def]
    """The sampled steps, untimed, on other cohorts: a running bot's process compiled its
    statements long before (SQLAlchemy's cache, the server's prepared plans), where a first
    raise or resolve in a process compiles for ~5-15 ms. Returns the checks that acted."""
    acted = 0
    for c in cohorts:
        await evaluate(db, c, now, cache)
        for _ in range(answers):
            await _complete_next(db, gen, shape, pending, c)
            ran = writes()
            await evaluate(db, c, now, cache)
            acted += writes() != ran
    return acted


async def _count_alerts(db) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from storage.models import Alert

    async with db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(Alert)) or 0)
