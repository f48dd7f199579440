"""One run of the national benchmark at one database size: three instances, the slice's round
queued as the scheduler's Monday job does, the tappers, delivery and memory figures."""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

from bench._common import (
    percentile,
)
from bench.ingest import is_question
from bench.memory import Sampler
from bench.national.cpu import CpuMeter
from bench.national.data import (
    FIRST_USER,
    INSTANCES,
    LIMIT,
    MB,
    MONDAY_0800,
    SECRET,
    WEEK,
    admin,
    copy_of,
)
from bench.national.db import explain_hot_queries, sizes_per_year
from bench.national.taps import loop_lag, stamp_webhooks, tap_figures, taps


def delivery_figures(api: Any, chats: list[int], started: float) -> dict[str, Any]:
    """Rate, 429s and duplicates of the round's messages, from the sandbox's records."""
    first_lines = f"📋 Week {WEEK}:"
    sends = sorted(t for chat in chats for t in api.stats.send_times.get(chat, []))
    per_chat = [
        sum(1 for m in api.messages(chat) if (m.text or "").startswith(first_lines))
        for chat in chats
    ]
    elapsed = sends[-1] - started if sends else float("nan")
    steady = (len(sends) - 1) / (sends[-1] - sends[0]) if len(sends) > 1 else float("nan")
    # the bot's whole use of its limit over the round: the tappers' replies count too
    every = [t for t in api.stats.all_send_times if sends and sends[0] <= t <= sends[-1]]
    used = (len(every) - 1) / (sends[-1] - sends[0]) if len(sends) > 1 else float("nan")
    return {
        "messages": len(sends),
        "reached": sum(1 for n in per_chat if n >= 1),
        "duplicates": sum(n - 1 for n in per_chat if n > 1),
        "elapsed_s": round(elapsed, 1),
        "first_send_s": round(sends[0] - started, 2) if sends else None,
        "steady_msgs_per_s": round(steady, 2),
        "ratio_steady": round(steady / LIMIT, 3),
        "all_sends_per_s": round(used, 2),
        "ratio_all_sends": round(used / LIMIT, 3),
        "ratio_end_to_end": round(len(chats) / LIMIT / elapsed, 3),
        "max_in_1s": api.stats.max_sends_within(1.0),
        "http_429": api.stats.too_many_requests,
        # when the sandbox's limiter said 429, seconds after the first send (start-up or not)
        "http_429_at_s": [round(t - sends[0], 1) for t in api.stats.rate_limited_times]
        if sends
        else [],
        "violations": len(api.violations),
    }


async def push_slice(url: str, cohorts: list[int], ahead: float = 0.0) -> float:
    """What the scheduler's Monday 08:00 job does (`open_rounds`: every cohort due, written in
    bulk); seconds it took. The round is due at the bench's Monday 08:00; its messages are
    queued at the real now (+ `ahead` seconds), the clock the instances' senders run on."""
    from bot.schedule.rounds import Due, open_rounds
    from storage.db import Database

    db = Database(url)
    try:
        start = time.monotonic()
        due = [Due(cohort, WEEK, "expectations", MONDAY_0800) for cohort in cohorts]
        opened = await open_rounds(db, due, datetime.now(UTC) + timedelta(seconds=ahead))
        assert not opened.failed and sum(r.queued for r in opened.rounds) == 25 * len(cohorts)
        return time.monotonic() - start
    finally:
        await db.dispose()


async def release_round(db: Any) -> None:
    """The slice's messages, queued ahead, due now: the instances find them within a second."""
    from sqlalchemy import text

    async with db.transaction() as session:
        await session.execute(
            text("UPDATE outbox SET not_before = :now WHERE status = 'pending'"),
            {"now": datetime.now(UTC).replace(tzinfo=None)},
        )


async def tappers_ready(api: Any, url: str, cohort: int, users: list[Any]) -> list[Any]:
    """Open week 5's reflection for the tappers' cohort (before the round, so its questions
    are not queued behind 3,000 messages) and wait for each tapper's first question."""
    from bot.schedule.rounds import open_round
    from storage.db import Database

    marks = {u.id: api.mark(u) for u in users}
    db = Database(url)
    try:
        now = datetime.now(UTC)
        await open_round(db, cohort, WEEK, "reflection", due_at=MONDAY_0800, now=now)
    finally:
        await db.dispose()
    return [
        await api.wait_for_message(u, is_question, since=marks[u.id], timeout=120) for u in users
    ]


async def one_size(template: str, students: int, weeks: int, slice_cohorts: int,
                   env: dict[str, str], explain: bool, tappers: int,
                   sizes: bool = True, release: bool = False) -> dict[str, Any]:  # fmt: skip
    """Copy the template, run three instances, deliver the slice's round, measure."""
    from storage.db import Database
    from tests.multi.helpers import Instances, webhook_runs
    from tgsandbox import SandboxServer

    url = await copy_of(template)
    tmp = tempfile.TemporaryDirectory(prefix="bench-national-")
    db = Database(url)
    result: dict[str, Any] = {"students": students, "slice_cohorts": slice_cohorts}
    try:
        async with SandboxServer() as api:
            chats = [api.add_user(f"S{i:05d}").id for i in range(slice_cohorts * 25)]
            assert chats[0] == FIRST_USER, chats[0]
            # the next two cohorts' students, in order: the first `tappers` of each tap, the
            # first cohort's with nothing going out (the baseline), the second's meanwhile
            extra = [api.add_user(f"T{i:02d}") for i in range(50)]
            quiet, tapping = extra[:tappers], extra[25 : 25 + tappers]
            world = Instances(api, url, db, Path(tmp.name), extra_env=env)
            try:
                _ports, urls, runs = webhook_runs(INSTANCES, SECRET)
                bots = await world.start_together(*runs)
                api.bot().webhook_targets = urls  # the load balancer: round-robin
                posts = stamp_webhooks(api)
                sampler = Sampler({f"i{n}": psutil.Process(b.pid) for n, b in enumerate(bots)})
                sampler.sample()
                sampler.start()
                started_mb = {k: round(v / MB, 1) for k, v in sampler.last.items()}
                api.set_rate_limits(global_per_second=LIMIT, per_chat_per_second=1)
                firsts = await tappers_ready(api, url, slice_cohorts + 1, quiet)
                result |= tap_figures(await taps(api, quiet, firsts, posts), "quiet_")
                firsts = await tappers_ready(api, url, slice_cohorts + 2, tapping)
                queued, cohorts = asyncio.Event(), list(range(1, slice_cohorts + 1))
                if release:  # queued ahead, then due at once: the senders' capacity alone
                    pushed_s = await push_slice(url, cohorts, ahead=3600)
                    result["open_s"] = round(pushed_s, 2)
                    await release_round(db)
                started = time.monotonic()
                busy = asyncio.create_task(taps(api, tapping, firsts, posts, queued, started))
                lag_stop, lags = asyncio.Event(), list[float]()
                lagging = asyncio.create_task(loop_lag(lag_stop, lags))
                if not release:
                    pushed_s = await push_slice(url, cohorts)
                    result["open_s"] = round(time.monotonic() - started, 2)
                queued.set()
                result["push_ms_mean"] = round(1000 * pushed_s / slice_cohorts, 1)
                # CPU per message from the round queued to its last send (the push excluded)
                meter = CpuMeter({f"i{n}": b.pid for n, b in enumerate(bots)}, database_of(url))
                metered = asyncio.Event()
                metering = asyncio.create_task(meter.sample(metered))
                xacts = await transactions(database_of(url))
                await wait_reached(api, chats, timeout=len(chats) / LIMIT * 3 + 60)
                metered.set()
                await metering
                xacts = [
                    b - a for a, b in zip(xacts, await transactions(database_of(url)), strict=True)
                ]
                result["pg_commits_rollbacks"] = xacts
                result |= delivery_figures(api, chats, started) | tap_figures(await busy, "")
                result |= meter.per_message(sorted(api.stats.all_send_times))
                lag_stop.set()
                await lagging
                result["driver_loop_lag_p95_max_s"] = [
                    round(percentile(lags, 95), 3), round(max(lags, default=0.0), 3)
                ]  # fmt: skip
                await asyncio.sleep(1)  # what is in flight lands: a duplicate would show
                result["duplicates"] = delivery_figures(api, chats, started)["duplicates"]
                await sampler.stop()
                result["rss_started_mb"] = started_mb
                result["rss_peak_mb"] = {k: round(v / MB, 1) for k, v in sampler.hwm.items()}
                for bot in bots:
                    if "Traceback" in bot.log():
                        result["tracebacks"] = result.get("tracebacks", 0) + 1
            finally:
                keep_logs(world.processes, students)
                await world.kill_all()
        if sizes:
            result["sizes"] = await sizes_per_year(url, students, weeks)
        if explain and sizes:  # after the sizes: it adds sent rows to the outbox
            result["explain"] = await explain_hot_queries(url)
    finally:
        await db.dispose()
        tmp.cleanup()
        await admin(f'DROP DATABASE IF EXISTS "{database_of(url)}" WITH (FORCE)')
    return result


async def transactions(database: str) -> list[int]:
    """Commits and rollbacks of the database so far (a pool's pre-ping is a rollback)."""
    rows = await admin(
        f"SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = '{database}'"
    )
    return [int(rows[0][0]), int(rows[0][1])]


def database_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def keep_logs(processes: list[Any], students: int) -> None:
    """The instances' logs, kept for a look at what a slow tap waited for."""
    keep = Path(tempfile.gettempdir()) / "bench-national-logs"
    keep.mkdir(exist_ok=True)
    for number, process in enumerate(processes, start=1):
        (keep / f"{students}-i{number}.log").write_text(process.log())
    print(f"instance logs in {keep}", flush=True)


async def wait_reached(api: Any, chats: list[int], timeout: float) -> None:  # noqa: ASYNC109
    """Until every chat of the slice has a message (checked twice a second: a driver, not a
    test; the sandbox records the exact times)."""
    deadline = time.monotonic() + timeout
    while sum(1 for c in chats if api.stats.send_times.get(c)) < len(chats):
        if time.monotonic() > deadline:
            return
        await asyncio.sleep(0.5)


def instance_env(paid: bool, by_hand: bool) -> dict[str, str]:
    """Every instance gets the same settings, as an operator would give them: the bot's rate
    (the instances share it through their leases); `by_hand` = the rate divided by hand and a
    pure-bulk headroom, the only way before the leases (runs A-D of docs/benchmarks.md)."""
    env = {"MENTORBOT_SEND_RATE": f"{LIMIT:g}", "MENTORBOT_LOG_LEVEL": "INFO"}
    if by_hand:
        env |= {"MENTORBOT_SEND_RATE": f"{LIMIT / INSTANCES:g}", "MENTORBOT_SEND_HEADROOM": "0.05"}
    if paid:
        env["MENTORBOT_PAID_BROADCAST"] = "1"
    return env
