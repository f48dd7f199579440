"""Opening a round: `bot.schedule.rounds.open_round` for one class of 2,000 students, on SQLite
and PostgreSQL, beside a bare multi-row insert of the same rows in the same run.

Each sample opens a new week's expectations round for the class (the round, its prompt tokens,
one outbox row per student, the previous round closed) and is timed from the call to the
commit. The baseline writes the rows that sample wrote — the same prompt rows and the same
outbox payloads under other keys — with two plain multi-row INSERTs in one transaction: the
floor of what opening the round has to write. Target: < 0.5 s (issue 14 item 1).

`--profile` prints a pyinstrument profile of one more open (pyinstrument is not a dependency:
`.venv/bin/pip install pyinstrument`).

    .venv/bin/python -m bench.open_round [--students 2000] [--samples 3] [--backend both]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bench._common import create_pg_database, drop_pg_database, emit, load_average
from bench._common import postgres_available as pg_up

TARGET_S = 0.5
CHUNK = 500


async def enrol(db: Any, students: int) -> int:
    """One cohort of `students` active students with a private chat each (one insert)."""
    from sqlalchemy import insert

    from storage.models import Member
    from storage.repos import CohortRepo

    now = datetime.now(UTC)
    async with db.transaction() as s:
        cohort = await CohortRepo(s).create("OPEN", date(2026, 9, 1), "Europe/Amsterdam")
        rows = [
            {"cohort_id": cohort.id, "role": "student", "name": f"S{i:04d}", "status": "active",
             "telegram_user_id": 700_000_001 + i, "chat_id": 700_000_001 + i, "joined_at": now,
             "consent_at": now, "consent_version": "bench"}
            for i in range(students)
        ]  # fmt: skip
        for start in range(0, len(rows), CHUNK):
            await s.execute(insert(Member), rows[start : start + CHUNK])
    return cohort.id


async def bare_insert(db: Any, round_id: int, week: int) -> float:
    """The baseline: the prompt and outbox rows of round `round_id`, written again under a new
    round (week + 100) and new keys with two plain INSERTs executed with all the rows
    (SQLAlchemy sends them as multi-row INSERTs), no ON CONFLICT, no RETURNING, nothing read
    or rendered; seconds to commit."""
    from sqlalchemy import insert, select

    from storage.models import OutboxMessage, Prompt, Round

    async with db.transaction() as s:
        p, o = Prompt.__table__, OutboxMessage.__table__
        prompts = [
            dict(r._mapping) for r in await s.execute(select(p).where(p.c.round_id == round_id))
        ]
        outbox = [
            dict(r._mapping) for r in await s.execute(select(o).where(o.c.round_id == round_id))
        ]
        cohort_id = (await s.get(Round, round_id)).cohort_id
    started = time.perf_counter()
    async with db.transaction() as s:
        copy = Round(cohort_id=cohort_id, week=week + 100, kind="expectations", status="closed",
                     due_at=datetime.now(UTC))  # fmt: skip
        s.add(copy)
        await s.flush()
        for row in prompts:
            row.update(token=row["token"][:-1] + "~", round_id=copy.id)
        for row in outbox:
            del row["id"]
            row.update(dedupe_key=row["dedupe_key"] + ":bare", round_id=copy.id)
        for rows, table in ((prompts, p), (outbox, o)):
            await s.execute(insert(table), rows)  # executemany: multi-row INSERTs, no ON CONFLICT
    return time.perf_counter() - started


async def backend_run(url: str, students: int, samples: int, profile: bool) -> dict[str, Any]:
    from bot.schedule.rounds import open_round
    from storage.db import Database

    db = Database(url)
    try:
        cohort_id = await enrol(db, students)
        opens, cpu, bares = [], [], []
        for week in range(1, samples + 1):
            now = datetime.now(UTC)
            started, started_cpu = time.perf_counter(), time.process_time()
            opened = await open_round(db, cohort_id, week, "expectations", now, now)
            opens.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)  # this process only, not the server
            assert opened.created and opened.queued == students, opened
            bares.append(await bare_insert(db, opened.round.id, week))
        if profile:
            await profile_one(db, cohort_id, samples + 1)
    finally:
        await db.dispose()
    return {
        "open_s": [round(v, 3) for v in opens],
        "open_cpu_s": [round(v, 3) for v in cpu],
        "bare_insert_s": [round(v, 3) for v in bares],
        "open_median_s": round(statistics.median(opens), 3),
        "bare_median_s": round(statistics.median(bares), 3),
        "ratio_to_bare": round(statistics.median(opens) / statistics.median(bares), 2),
    }


async def profile_one(db: Any, cohort_id: int, week: int) -> None:
    from pyinstrument import Profiler

    from bot.schedule.rounds import open_round

    now = datetime.now(UTC)
    with Profiler(async_mode="disabled") as profiler:  # the greenlet's SQL work included
        await open_round(db, cohort_id, week, "expectations", now, now)
    print(profiler.output_text(unicode=True, color=False, show_all=False))


async def sqlite_url(tmp: str) -> str:
    from storage import migrate

    url = f"sqlite+aiosqlite:///{Path(tmp) / 'open.db'}"
    await migrate.upgrade(url)
    return url


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=3, help="rounds opened per backend")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--profile", action="store_true", help="pyinstrument one more open")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"open_round: {args.students} students, {args.samples} rounds per backend; "
          f"load {load_average()}", flush=True)  # fmt: skip
    runs: dict[str, Any] = {}
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="bench-open-") as tmp:
            url = await sqlite_url(tmp)
            runs["sqlite"] = await backend_run(url, args.students, args.samples, args.profile)
    if args.backend in ("postgres", "both") and await pg_up():
        from storage import migrate

        url = await create_pg_database()
        try:
            await migrate.upgrade(url)
            runs["postgres"] = await backend_run(url, args.students, args.samples, args.profile)
        finally:
            await drop_pg_database(url)
    for name, r in runs.items():
        print(f"{name:9} open {r['open_s']} s (median {r['open_median_s']}; CPU of this process "
              f"{r['open_cpu_s']} s); bare insert of the "
              f"same rows {r['bare_insert_s']} s; open ÷ bare {r['ratio_to_bare']}; "
              f"target < {TARGET_S} s")  # fmt: skip
    print(f"load after the runs {load_average()}")
    emit(
        "open_round",
        students=args.students,
        target_s=TARGET_S,
        met=bool(runs) and all(r["open_median_s"] < TARGET_S for r in runs.values()),
        load=load_average(),
        runs=runs,
    )


if __name__ == "__main__":
    asyncio.run(main())
