"""National scale, simulated: one PostgreSQL database, three `mentorbot run` instances, a
Monday 08:00 expectations round for a slice of 2,000 cohorts, against the sandbox at 30 msg/s.

The data (2,000 cohorts × 25 students = 50,000, and a 400-cohort = 10,000 one for the memory
comparison; 4 weeks of answers each) is written once with COPY into a PostgreSQL database that
is kept as a template (`mentorbot_bench_national_<students>`; `--fresh` rebuilds it). Each run
copies the template, starts three webhook instances behind the sandbox's round-robin load
balancer, and pushes week 5's expectations (what the scheduler does at Monday 08:00, on a clock
the benchmark owns: the cohorts start in 2030, so the instances' own schedulers on the real
clock find nothing due) for the first `--slice` cohorts with `bot.schedule.rounds.open_rounds`,
the function the scheduler fires (its messages queued at the real now: the instances' senders
run on the real clock). The sandbox allows the bot 30 messages/s and 1/s per chat.

A full national round at 30/s takes ~28 minutes, so a slice is run and the full round
extrapolated: figures are the delivery rate against the bot's limit (the baseline: what
Telegram allows; the bot's use of it counts the tappers' replies too), 429s and when they
came, the replies target while the round drains (`--tappers` students of a cohort outside
the slice answer their reflection, as `bench.tap_latency` does; as many of another cohort did
before the round: the baseline), duplicates, peak RSS of
each instance at both database sizes, the database size per school year (from measured bytes
per row) and EXPLAIN of the hot queries.

    .venv/bin/python -m bench.national [--slice 120] [--sizes 10000,50000] [--tappers 5]
"""

# ruff: noqa: ASYNC109  (a driver script)

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psutil

from bench._common import (
    POSTGRES_ADMIN_URL,
    Shape,
    _pg_dsn,
    emit,
    generate,
    load_average,
    percentile,
    postgres_available,
    write_postgres,
)
from bench.ingest import is_question
from bench.memory import Sampler
from bench.national_db import explain_hot_queries, sizes_per_year
from bench.national_taps import loop_lag, stamp_webhooks, tap_figures, taps

LIMIT = 30.0  # Telegram's rate for one bot, messages/s
INSTANCES = 3
TARGET_RATIO = 0.95
TARGET_TAP_P95 = 1.0  # seconds from a tap to the next question (docs/benchmarks.md §1b)
TARGET_MB = 150.0
MB = 1024 * 1024
FIRST_USER = 700_000_001  # the sandbox's first user id: students are given these chat ids in order
# cohorts start in 2030, so the instances' schedulers (real clock) find nothing due; the bench
# owns the clock: Monday of plan week 5, 08:00 in Amsterdam
COHORT_START = date(2030, 9, 2)
MONDAY_0800 = datetime(2030, 9, 30, 6, 0, tzinfo=UTC)
WEEK = 5
SECRET = "National_S3cret"


def template_name(students: int) -> str:
    return f"mentorbot_bench_national_{students}"


def url_of(name: str) -> str:
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


async def admin(sql: str) -> Any:
    import asyncpg

    conn = await asyncpg.connect(_pg_dsn(POSTGRES_ADMIN_URL))
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


def remap(tables: dict[str, list[tuple[Any, ...]]]) -> None:
    """Students get the sandbox's user ids in order (so a slice's users can be made in the
    sandbox), mentors ids no sandbox user has; cohorts start in 2030."""
    new_uid: dict[int, int] = {}
    students = mentors = 0
    members = []
    for row in tables["members"]:
        if row[2] == "student":
            uid = FIRST_USER + students
            students += 1
        else:
            uid = 800_000_001 + mentors
            mentors += 1
        new_uid[row[5]] = uid
        members.append((*row[:5], uid, uid, *row[7:]))
    tables["members"] = members
    tables["user_settings"] = [(new_uid[r[0]], *r[1:]) for r in tables["user_settings"]]
    tables["cohorts"] = [(*r[:3], COHORT_START, *r[4:]) for r in tables["cohorts"]]


async def ensure_template(students: int, weeks: int, fresh: bool) -> str:
    """The template database of `students` students, built once (or again with --fresh)."""
    from storage import migrate

    name = template_name(students)
    exists = await admin(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if exists and not fresh:
        return name
    if exists:
        await admin(f'ALTER DATABASE "{name}" WITH is_template false')
        await admin(f'DROP DATABASE "{name}" WITH (FORCE)')
    started = time.monotonic()
    await admin(f'CREATE DATABASE "{name}"')
    await migrate.upgrade(url_of(name))
    gen, tables = generate(Shape(cohorts=students // 25, students=25, weeks=weeks))
    remap(tables)
    await write_postgres(url_of(name), tables)
    await admin(f'ALTER DATABASE "{name}" WITH is_template true')
    print(f"template {name} written in {time.monotonic() - started:.0f} s: {gen.counts}",
          flush=True)  # fmt: skip
    return name


async def copy_of(template: str) -> str:
    name = f"{template}_run"
    await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return url_of(name)


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


async def push_slice(url: str, cohorts: list[int]) -> float:
    """What the scheduler's Monday 08:00 job does (`open_rounds`: every cohort due, written in
    bulk); seconds it took. The round is due at the bench's Monday 08:00; its messages are
    queued at the real now, the clock the instances' senders run on."""
    from bot.schedule.rounds import Due, open_rounds
    from storage.db import Database

    db = Database(url)
    try:
        start = time.monotonic()
        due = [Due(cohort, WEEK, "expectations", MONDAY_0800) for cohort in cohorts]
        opened = await open_rounds(db, due, datetime.now(UTC))
        assert not opened.failed and sum(r.queued for r in opened.rounds) == 25 * len(cohorts)
        return time.monotonic() - start
    finally:
        await db.dispose()


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
                   sizes: bool = True) -> dict[str, Any]:  # fmt: skip
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
                queued = asyncio.Event()
                started = time.monotonic()
                busy = asyncio.create_task(taps(api, tapping, firsts, posts, queued, started))
                lag_stop, lags = asyncio.Event(), list[float]()
                lagging = asyncio.create_task(loop_lag(lag_stop, lags))
                pushed_s = await push_slice(url, list(range(1, slice_cohorts + 1)))
                queued.set()
                result["open_s"] = round(time.monotonic() - started, 2)
                result["push_ms_mean"] = round(1000 * pushed_s / slice_cohorts, 1)
                await wait_reached(api, chats, timeout=len(chats) / LIMIT * 3 + 60)
                result |= delivery_figures(api, chats, started) | tap_figures(await busy, "")
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
        await admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    return result


def keep_logs(processes: list[Any], students: int) -> None:
    """The instances' logs, kept for a look at what a slow tap waited for."""
    keep = Path(tempfile.gettempdir()) / "bench-national-logs"
    keep.mkdir(exist_ok=True)
    for number, process in enumerate(processes, start=1):
        (keep / f"{students}-i{number}.log").write_text(process.log())
    print(f"instance logs in {keep}", flush=True)


async def wait_reached(api: Any, chats: list[int], timeout: float) -> None:
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slice", type=int, default=120, help="cohorts that get the round")
    parser.add_argument("--sizes", default="10000,50000", help="students in the database")
    parser.add_argument("--weeks", type=int, default=4, help="weeks of history")
    parser.add_argument("--fresh", action="store_true", help="rebuild the template databases")
    parser.add_argument("--paid", action="store_true", help="MENTORBOT_PAID_BROADCAST=1")
    parser.add_argument("--by-hand", action="store_true", help="the rate divided by hand")
    parser.add_argument("--tappers", type=int, default=5, help="students tapping meanwhile")
    parser.add_argument("--no-sizes", action="store_true", help="skip the sizes and EXPLAIN")
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
