"""Fan-out: one expectations round to 2,000 students through the real bot and its outbox.

The sandbox Bot API server enforces 100 messages/s for the bot and 1/s per chat; the bot runs
with MENTORBOT_SEND_RATE=100 (in-process Application, long polling, SQLite). The students are
written straight into the database with the repositories; `bot.schedule.rounds.open_round`
queues the
round and the clock runs until the sandbox has accepted all 2,000 messages.

Figures: (N / limit) / actual time — the raw ratio, target ≥ 0.95 — and the same against the
bulk budget `limit × (1 − headroom)`: the sender keeps 20 % of the rate free for interactive
replies (SPEC §7), so ~0.8 raw is the design. Side by side, a second run with the headroom set
to 0 (a bench-only override of the sender; there is no setting for it) shows what a pure-bulk
configuration would reach, a third with 8 requests in flight instead of 2 shows whether
the HTTP round trip is the bound, and a control run — a bare PTB `Bot` sending evenly spaced
messages at the limit, no database — shows what this machine and sandbox can do at all (these
three on 600 students to stay within ~2 minutes).
429s provoked: target 0.

    .venv/bin/python -m bench.fanout [--students 2000] [--rate 100]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bench._common import emit, load_average

TARGET_RAW = 0.95


async def enrol(db: Any, users: list[Any]) -> int:
    from storage.repos import CohortRepo, MemberRepo

    now = datetime.now(UTC)
    async with db.transaction() as s:
        cohort = await CohortRepo(s).create("FANOUT", date(2026, 9, 1), "Europe/Amsterdam")
        members = MemberRepo(s)
        for user in users:
            await members.add_active(
                cohort.id,
                "student",
                name=user.first_name,
                telegram_user_id=user.id,
                chat_id=user.id,
                consent_version="bench",
                now=now,
            )
    return cohort.id


async def one_run(
    students: int, rate: float, headroom: float | None = None, in_flight: int | None = None
) -> dict[str, Any]:
    """Open one round for `students` and time its delivery; None = the sender as shipped."""
    from bot.app.application import build_application
    from bot.app.embedded import running
    from bot.outbox.sender import OutboxSender
    from bot.schedule.rounds import open_round
    from storage import migrate
    from storage.db import Database
    from tests.conftest import make_settings
    from tgsandbox import SandboxServer

    tmp = tempfile.TemporaryDirectory(prefix="bench-fanout-")
    url = f"sqlite+aiosqlite:///{Path(tmp.name) / 'fanout.db'}"
    await migrate.upgrade(url)
    async with SandboxServer() as api:
        users = [api.add_user(f"S{i:04d}") for i in range(students)]
        setup = Database(url)
        cohort_id = await enrol(setup, users)
        await setup.dispose()
        os.environ["MENTORBOT_SEND_RATE"] = f"{rate:g}"
        settings = make_settings(url, api.base_url, MENTORBOT_SEND_RATE=rate)
        app = build_application(settings, migrate_on_start=False, scheduler=False)
        async with running(app):
            services = app.bot_data.live()
            if headroom is not None or in_flight is not None:
                shipped = services.sender
                await shipped.stop()
                services.sender = OutboxSender(
                    services.db,
                    app.bot,
                    rate=settings.send_rate,
                    per_chat_rate=settings.per_chat_rate,
                    headroom=shipped.pacer.headroom if headroom is None else headroom,
                    in_flight=shipped.in_flight if in_flight is None else in_flight,
                    on_unreachable=services.member_unreachable,
                )
                services.sender.start()
            sender = services.sender
            bulk_rate = sender.pacer.bulk_rate
            api.set_rate_limits(global_per_second=rate, per_chat_per_second=1)
            sends_before = len(api.stats.all_send_times)
            started = time.monotonic()
            now = datetime.now(UTC)
            opened = await open_round(services.db, cohort_id, 1, "expectations", now, now)
            queued_at = time.monotonic()
            await services.round_opened(opened)
            chats = {u.id for u in users}

            def delivered() -> int:
                return sum(1 for chat in chats if api.stats.send_times.get(chat))

            await api.wait_until(lambda: delivered() >= students, timeout=students / rate * 4 + 30)
            finished = time.monotonic()
            sends = api.stats.all_send_times[sends_before:]
        violations = list(api.violations)
    tmp.cleanup()
    elapsed = finished - started
    ideal = students / rate
    first_send = sends[0] - started if sends else float("nan")
    steady = (len(sends) - 1) / (sends[-1] - sends[0]) if len(sends) > 1 else float("nan")
    return {
        "students": students,
        "headroom": sender.pacer.headroom,
        "in_flight": sender.in_flight,
        "bulk_rate": round(bulk_rate, 1),
        "queued": opened.queued,
        "delivered": len(sends),
        "open_round_s": round(queued_at - started, 3),
        "first_send_s": round(first_send, 3),
        "elapsed_s": round(elapsed, 2),
        "ideal_s": round(ideal, 2),
        "ratio_raw": round(ideal / elapsed, 3),
        "ratio_vs_bulk": round((students / bulk_rate) / elapsed, 3),
        "steady_msgs_per_s": round(steady, 1),
        "max_in_1s": api.stats.max_sends_within(1.0),
        "max_per_chat_in_1s": max(
            (api.stats.max_sends_within(1.0, chat) for chat in chats), default=0
        ),
        "rate_limited_429": api.stats.rate_limited,
        "all_429": api.stats.too_many_requests,
        "violations": len(violations),
    }


async def bare_run(students: int, rate: float) -> dict[str, Any]:
    """The control: a bare PTB `Bot` sending one message per chat, evenly spaced at `rate`
    (no database, no outbox), to the same sandbox with the same limits."""
    from telegram.ext import ExtBot
    from telegram.request import HTTPXRequest

    from tgsandbox import SandboxServer

    async with SandboxServer() as api:
        users = [api.add_user(f"S{i:04d}") for i in range(students)]
        api.set_rate_limits(global_per_second=rate, per_chat_per_second=1)
        bot = ExtBot(
            api.token,
            base_url=f"{api.base_url}/bot",
            request=HTTPXRequest(connection_pool_size=64),
        )
        async with bot:
            started = time.monotonic()
            tasks = []
            for i, user in enumerate(users):
                delay = started + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(bot.send_message(user.id, "Week 1")))
            await asyncio.gather(*tasks, return_exceptions=True)
            elapsed = time.monotonic() - started
        sends = api.stats.all_send_times
        steady = (len(sends) - 1) / (sends[-1] - sends[0]) if len(sends) > 1 else float("nan")
        return {
            "students": students,
            "headroom": 0.0,
            "in_flight": "any",
            "bulk_rate": rate,
            "delivered": len(sends),
            "elapsed_s": round(elapsed, 2),
            "ideal_s": round(students / rate, 2),
            "ratio_raw": round(students / rate / elapsed, 3),
            "ratio_vs_bulk": round(students / rate / elapsed, 3),
            "steady_msgs_per_s": round(steady, 1),
            "max_in_1s": api.stats.max_sends_within(1.0),
            "rate_limited_429": api.stats.rate_limited,
            "all_429": api.stats.too_many_requests,
        }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--no-pure-bulk", action="store_true", help="skip the headroom-0 runs")
    parser.add_argument("--in-flight", type=int, default=8, help="requests at once, 3rd run")
    parser.add_argument("--variant-students", type=int, default=600, help="students, runs 2-3")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"fan-out: {args.students} students, sandbox {args.rate:g}/s global and 1/s per chat, "
          f"MENTORBOT_SEND_RATE={args.rate:g}; load {load_average()}", flush=True)  # fmt: skip
    runs = {"as_shipped": await one_run(args.students, args.rate)}
    if not args.no_pure_bulk:
        n = args.variant_students
        runs["headroom_0"] = await one_run(n, args.rate, headroom=0.0)
        runs["headroom_0_if8"] = await one_run(n, args.rate, headroom=0.0, in_flight=args.in_flight)
        runs["bare_ptb_paced"] = await bare_run(n, args.rate)
    print()
    cols = ("students", "headroom", "in_flight", "bulk_rate", "elapsed_s", "ideal_s", "ratio_raw",
            "ratio_vs_bulk", "steady_msgs_per_s", "max_in_1s", "rate_limited_429",
            "all_429")  # fmt: skip
    print(f"{'run':15} " + " ".join(f"{c:>17}" for c in cols))
    for name, r in runs.items():
        print(f"{name:15} " + " ".join(f"{r[c]!s:>17}" for c in cols))
    shipped = runs["as_shipped"]
    print(f"raw ratio {shipped['ratio_raw']} (target ≥ {TARGET_RAW}), against the bulk budget "
          f"{shipped['ratio_vs_bulk']}; 429s {shipped['all_429']}")  # fmt: skip
    emit(
        "fanout",
        students=args.students,
        limit_per_s=args.rate,
        target_ratio=TARGET_RAW,
        ratio_raw=shipped["ratio_raw"],
        ratio_vs_bulk=shipped["ratio_vs_bulk"],
        http_429=shipped["all_429"],
        met_raw=shipped["ratio_raw"] >= TARGET_RAW,
        met_bulk=shipped["ratio_vs_bulk"] >= TARGET_RAW and shipped["all_429"] == 0,
        runs=runs,
    )


if __name__ == "__main__":
    asyncio.run(main())
