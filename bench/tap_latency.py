"""Tap latency: a student's tap answered while a 1,000-student round drains at the limit.

The real Application (in-process, long polling; SQLite, or with `--backend postgres` a fresh
PostgreSQL database on MENTORBOT_TEST_POSTGRES_URL's server, dropped after the run) against
the sandbox enforcing 30 messages/s for the bot and 1/s per chat, with MENTORBOT_SEND_RATE=30.
Ten students answer their week's reflection (a tap, then the next question), one answer every
`THINK` seconds each; the time from the tap to the next question is one sample. First with
nothing else going out (the baseline, in the same run), then while an expectations round to
1,000 other students drains through the same limiter. Target (issue 14, docs/benchmarks.md):
p95 < 1 s while the round drains, 0 × 429, and the round still at the limit (replies first,
bulk takes what they leave).

    .venv/bin/python -m bench.tap_latency [--students 1000] [--tappers 10] [--rate 30]
        [--backend sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._common import (
    create_pg_database,
    drop_pg_database,
    emit,
    load_average,
    percentile,
    postgres_available,
)
from bench.ingest import ANSWERS, answer_one, is_question

TARGET_P95 = 1.0
THINK = 2.0  # seconds a tapper reads: a quick student taps every 2–3 s (bot/runtime/flood.py)


async def enrol(db: Any, name: str, users: list[Any]) -> int:
    from storage.repos import CohortRepo, MemberRepo

    now = datetime.now(UTC)
    async with db.transaction() as s:
        cohort = await CohortRepo(s).create(name, date(2026, 9, 1), "Europe/Amsterdam")
        for user in users:
            await MemberRepo(s).add_active(
                cohort.id, "student", name=user.first_name, telegram_user_id=user.id,
                chat_id=user.id, consent_version="bench", now=now,
            )  # fmt: skip
    return cohort.id


async def first_questions(api: Any, services: Any, cohort_id: int, users: list[Any]) -> list[Any]:
    """Open the cohort's reflection and wait for each user's first question."""
    from bot.schedule.rounds import open_round

    marks = {u.id: api.mark(u) for u in users}
    due = datetime.now(UTC)
    opened = await open_round(
        services.db, cohort_id, 1, "reflection", due, due + timedelta(seconds=1)
    )
    await services.round_opened(opened)
    return [
        await api.wait_for_message(u, is_question, since=marks[u.id], timeout=120) for u in users
    ]


async def tap(api: Any, user: Any, first: Any) -> list[float]:
    """Answer the reflection, one answer a `THINK`; the seconds from each tap to the reply."""
    samples, message = [], first
    for index in range(ANSWERS):
        if not is_question(message):
            break
        await asyncio.sleep(THINK)  # reading time, not a measurement
        started = time.monotonic()
        message = await answer_one(api, user, message, index)
        samples.append(time.monotonic() - started)
    return samples


async def run(backend: str, students: int, tappers: int, rate: float) -> dict[str, Any]:
    """The benchmark on a fresh database of `backend`, removed afterwards."""
    from storage import migrate

    if backend == "postgres":
        url = await create_pg_database()
        try:
            await migrate.upgrade(url)
            return await measure(url, students, tappers, rate)
        finally:
            await drop_pg_database(url)
    with tempfile.TemporaryDirectory(prefix="bench-tap-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'tap.db'}"
        await migrate.upgrade(url)
        return await measure(url, students, tappers, rate)


async def measure(url: str, students: int, tappers: int, rate: float) -> dict[str, Any]:
    from bot.app.application import build_application
    from bot.app.embedded import running
    from bot.schedule.rounds import open_round
    from storage.db import Database
    from tests.conftest import make_settings
    from tgsandbox import SandboxServer

    async with SandboxServer() as api:
        quiet = [api.add_user(f"Q{i:02d}") for i in range(tappers)]
        busy = [api.add_user(f"T{i:02d}") for i in range(tappers)]
        crowd = [api.add_user(f"S{i:04d}") for i in range(students)]
        setup = Database(url)
        quiet_id = await enrol(setup, "QUIET", quiet)
        busy_id = await enrol(setup, "TAPPERS", busy)
        crowd_id = await enrol(setup, "CROWD", crowd)
        await setup.dispose()
        api.set_rate_limits(global_per_second=rate, per_chat_per_second=1)
        settings = make_settings(url, api.base_url, MENTORBOT_SEND_RATE=rate)
        app = build_application(settings, migrate_on_start=False, scheduler=False)
        async with running(app):
            services = app.bot_data.live()
            firsts = await first_questions(api, services, quiet_id, quiet)
            baseline = await asyncio.gather(
                *(tap(api, u, f) for u, f in zip(quiet, firsts, strict=True))
            )
            firsts = await first_questions(api, services, busy_id, busy)
            before = len(api.stats.all_send_times)
            now = datetime.now(UTC)
            opened = await open_round(services.db, crowd_id, 1, "expectations", now, now)
            started = time.monotonic()
            await services.round_opened(opened)
            await api.wait_until(lambda: len(api.stats.all_send_times) - before >= 2 * rate, 60)
            draining = await asyncio.gather(
                *(tap(api, u, f) for u, f in zip(busy, firsts, strict=True))
            )
            crowd_ids = {u.id for u in crowd}
            await api.wait_until(
                lambda: sum(1 for c in crowd_ids if api.stats.send_times.get(c)) >= students,
                timeout=students / rate * 4 + 60,
            )
            elapsed = time.monotonic() - started
        too_many = api.stats.too_many_requests
    quiet_s = [s for samples in baseline for s in samples]
    busy_s = [s for samples in draining for s in samples]
    return {
        "quiet_n": len(quiet_s),
        "quiet_p50_s": round(percentile(quiet_s, 50), 3),
        "quiet_p95_s": round(percentile(quiet_s, 95), 3),
        "draining_n": len(busy_s),
        "draining_p50_s": round(percentile(busy_s, 50), 3),
        "draining_p95_s": round(percentile(busy_s, 95), 3),
        "round_elapsed_s": round(elapsed, 2),
        "round_ratio": round(students / rate / elapsed, 3),
        "http_429": too_many,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--tappers", type=int, default=10)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.backend == "postgres" and not await postgres_available():
        print("PostgreSQL not reachable at MENTORBOT_TEST_POSTGRES_URL: skipped")
        emit("tap_latency", **vars(args), skipped="postgres not reachable")
        return
    print(f"tap latency ({args.backend}): {args.tappers} tappers, a {args.students}-student "
          f"round at {args.rate:g}/s; load {load_average()}", flush=True)  # fmt: skip
    result = await run(args.backend, args.students, args.tappers, args.rate)
    print(f"load after the run {load_average()}")
    print(f"tap → next question, nothing draining (baseline): p50 {result['quiet_p50_s']} s, "
          f"p95 {result['quiet_p95_s']} s ({result['quiet_n']} taps)")  # fmt: skip
    print(f"while the round drains: p50 {result['draining_p50_s']} s, p95 "
          f"{result['draining_p95_s']} s ({result['draining_n']} taps; target p95 < "
          f"{TARGET_P95:g} s); p95 ÷ baseline p95 "
          f"{round(result['draining_p95_s'] / result['quiet_p95_s'], 2)}")  # fmt: skip
    print(f"the round: {result['round_elapsed_s']} s, ratio {result['round_ratio']}, "
          f"429s {result['http_429']}")  # fmt: skip
    emit(
        "tap_latency",
        **vars(args),
        target_p95_s=TARGET_P95,
        met=result["draining_p95_s"] < TARGET_P95 and result["http_429"] == 0,
        **result,
    )


if __name__ == "__main__":
    asyncio.run(main())
