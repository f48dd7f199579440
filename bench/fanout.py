"""Fan-out: one expectations round to 2,000 students through the real bot and its outbox.

The sandbox Bot API server enforces 100 messages/s for the bot and 1/s per chat; the bot runs
with MENTORBOT_SEND_RATE=100 (in-process Application, long polling, SQLite). The students are
written straight into the database with the repositories; `bot.schedule.rounds.open_round`
queues the round and the clock runs until the sandbox has accepted all 2,000 messages.

Figures: (N / limit) / actual time — the ratio, target ≥ 0.95 (≤ 1.05 × the floor N / limit)
— with 0 × 429, and the seconds `open_round` took (target < 0.5 s). Replies and the outbox
share one limiter, so no share of the rate is kept idle: the whole limit is the budget.
Baselines in the same run, on 600 students each to stay within a few minutes: the sender
claiming one row per transaction (`in_flight=1`, the old behaviour), and a control — a bare PTB
`Bot` sending evenly spaced messages at the limit, no database — that shows what this machine
and sandbox can do at all. Each ratio is printed against the control's. `--paid` adds a run
with MENTORBOT_PAID_BROADCAST=1 against the sandbox's 1,000/s paid limit; `--in-flight N` a
run with N requests out at once instead of a tenth of a second's worth (a diagnostic: what
the small window of possible duplicates costs here).

    .venv/bin/python -m bench.fanout [--students 2000] [--rate 100] [--paid] [--in-flight N]
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

from bench._common import emit, load_average, percentile

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


async def answer_times(pacer: Any, until: asyncio.Event) -> list[float]:
    """Seconds from each counted request's departure to its answer, read off the pacing's
    record of the last `rate` requests (the departure rule's input) five times a second."""
    seen: dict[int, float] = {}
    while not until.is_set():
        for left, answered in list(pacer._free._departed):  # a diagnostic: read, not changed
            if answered != float("inf"):
                seen[hash((left, answered))] = answered - left
        await asyncio.sleep(0.2)
    return list(seen.values())


async def one_run(
    students: int, rate: float, in_flight: int | None = None, paid: bool = False
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
        settings = make_settings(
            url, api.base_url, MENTORBOT_SEND_RATE=rate, MENTORBOT_PAID_BROADCAST=paid
        )
        app = build_application(settings, migrate_on_start=False, scheduler=False)
        async with running(app):
            services = app.bot_data.live()
            if in_flight is not None:
                await services.sender.stop()
                services.sender = OutboxSender(
                    services.db,
                    app.bot,
                    in_flight=in_flight,
                    on_unreachable=services.member_unreachable,
                )
                services.sender.start()
            sender = services.sender
            bulk_rate = sender.pacer.lane_rate(paid)
            api.set_rate_limits(global_per_second=rate, per_chat_per_second=1)
            sends_before = len(api.stats.all_send_times)
            done = asyncio.Event()
            answers = asyncio.create_task(answer_times(sender.pacer, done))
            started = time.monotonic()
            now = datetime.now(UTC)
            opened = await open_round(services.db, cohort_id, 1, "expectations", now, now)
            queued_at = time.monotonic()
            await services.round_opened(opened)
            chats = {u.id for u in users}

            def delivered() -> int:
                # Cheap (it runs on every request the sandbox records): each student gets one
                # message, and nothing else is sent meanwhile; checked per chat afterwards.
                return len(api.stats.all_send_times) - sends_before

            await api.wait_until(lambda: delivered() >= students, timeout=students / rate * 4 + 30)
            finished = time.monotonic()
            done.set()
            rtt = sorted(await answers)
            sends = api.stats.all_send_times[sends_before:]
            assert all(api.stats.send_times.get(chat) for chat in chats), "a student missed"
        violations = list(api.violations)
    tmp.cleanup()
    elapsed = finished - started
    ideal = students / bulk_rate
    first_send = sends[0] - started if sends else float("nan")
    steady = (len(sends) - 1) / (sends[-1] - sends[0]) if len(sends) > 1 else float("nan")
    return {
        "students": students,
        "paid": paid,
        "in_flight": sender.max_in_flight(),
        "batch": min(sender.batch_size(), sender.max_in_flight()),
        "bulk_rate": round(bulk_rate, 1),
        "queued": opened.queued,
        "delivered": len(sends),
        "open_round_s": round(queued_at - started, 3),
        "first_send_s": round(first_send, 3),
        "elapsed_s": round(elapsed, 2),
        "ideal_s": round(ideal, 2),
        "ratio": round(ideal / elapsed, 3),
        "steady_msgs_per_s": round(steady, 1),
        "max_in_1s": api.stats.max_sends_within(1.0),
        "rows_per_claim": round(sender.result.sent / max(1, sender.result.claims), 1),
        "answer_p50_ms": round(1000 * percentile(rtt, 50)) if rtt else None,
        "answer_p95_ms": round(1000 * percentile(rtt, 95)) if rtt else None,
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
            "paid": False,
            "in_flight": "any",
            "batch": "-",
            "bulk_rate": rate,
            "delivered": len(sends),
            "elapsed_s": round(elapsed, 2),
            "ideal_s": round(students / rate, 2),
            "open_round_s": "-",
            "ratio": round(students / rate / elapsed, 3),
            "steady_msgs_per_s": round(steady, 1),
            "max_in_1s": api.stats.max_sends_within(1.0),
            "rate_limited_429": api.stats.rate_limited,
            "all_429": api.stats.too_many_requests,
        }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--no-baselines", action="store_true", help="skip the 600-student runs")
    parser.add_argument("--paid", action="store_true", help="add a paid-broadcast run")
    parser.add_argument("--variant-students", type=int, default=600, help="students, baselines")
    parser.add_argument(
        "--in-flight", type=int, default=0, help="a diagnostic run with this many requests out"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"fan-out: {args.students} students, sandbox {args.rate:g}/s global and 1/s per chat, "
          f"MENTORBOT_SEND_RATE={args.rate:g}; load {load_average()}", flush=True)  # fmt: skip
    runs = {"as_shipped": await one_run(args.students, args.rate)}
    if not args.no_baselines:
        n = args.variant_students
        runs["one_row_claims"] = await one_run(n, args.rate, in_flight=1)
        runs["bare_ptb_paced"] = await bare_run(n, args.rate)
    if args.in_flight:  # what the small duplicates window (SPEC §7) costs on this machine
        runs[f"in_flight_{args.in_flight}"] = await one_run(
            args.students, args.rate, in_flight=args.in_flight
        )
    if args.paid:
        runs["paid_broadcast"] = await one_run(args.students, args.rate, paid=True)
    print(f"load after the runs {load_average()}")
    print()
    cols = ("students", "paid", "in_flight", "batch", "bulk_rate", "open_round_s", "elapsed_s",
            "ideal_s", "ratio", "steady_msgs_per_s", "max_in_1s", "all_429", "answer_p50_ms",
            "answer_p95_ms", "rows_per_claim")  # fmt: skip
    print(f"{'run':15} " + " ".join(f"{c:>17}" for c in cols))
    for name, r in runs.items():
        print(f"{name:15} " + " ".join(f"{r.get(c, '-')!s:>17}" for c in cols))
    shipped = runs["as_shipped"]
    control = runs.get("bare_ptb_paced")
    against = round(shipped["ratio"] / control["ratio"], 3) if control else None
    print(f"ratio {shipped['ratio']} (target ≥ {TARGET_RAW}), {against} of the bare-PTB control's "
          f"in this run; opening the round {shipped['open_round_s']} s (target < 0.5); "
          f"429s {shipped['all_429']}")  # fmt: skip
    for name, r in runs.items():
        if name != "as_shipped" and control is not None and name != "bare_ptb_paced":
            print(f"{name}: ratio {r['ratio']}, {round(r['ratio'] / control['ratio'], 3)} of "
                  f"the control's; 429s {r['all_429']}")  # fmt: skip
    emit(
        "fanout",
        students=args.students,
        limit_per_s=args.rate,
        target_ratio=TARGET_RAW,
        ratio=shipped["ratio"],
        ratio_vs_control=against,
        open_round_s=shipped["open_round_s"],
        http_429=shipped["all_429"],
        met=shipped["ratio"] >= TARGET_RAW and shipped["all_429"] == 0,
        runs=runs,
    )


if __name__ == "__main__":
    asyncio.run(main())
