"""Ingest: answer updates per second handled end to end, mentorbot against a bare
python-telegram-bot Application, side by side on one sandbox in the same run.

mentorbot (SQLite, in-process Application, long polling): 50 enrolled students get the week's
reflection through the outbox; then each student answers its 6 questions as fast as the bot
replies (a tap on a rating or choice, one typed answer): every answer is stored, the callback
answered, the question edited and the next question sent; after the last one the alert check
runs. The bare Application (second token via `api.add_bot`, same sandbox, polling at the same
time) makes the same Bot API requests per tap and nothing else: it answers the callback, sends
the next question with buttons and edits the tapped question (a typed answer gets one message
back, as mentorbot folds its confirmation into the next question), handling 16 updates at once
as mentorbot's inbox does; it sends mentorbot's own texts and keyboards, captured from the
turn before (`bench._ingest_bare`; `--bare-content short`: the smaller messages of the
baseline before 7 Dec 2026). Both get the same number of updates: students × 6, driven by 50
concurrent users. The two are measured in turns (mentorbot, bare, mentorbot, bare), so both
see the same machine. Figure: mentorbot updates/s ÷ bare updates/s (target ≥ 0.8), with
MENTORBOT_SEND_RATE=1000 (the send limit lifted, as the target says).

    .venv/bin/python -m bench.ingest [--students 50] [--repeats 2] [--bare-transport aiohttp]
        [--bare-content mirror|short] [--profile PREFIX] [--count-sql]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._common import emit, load_average
from bench._ingest_bare import Script, bare_application

TARGET = 0.8
BARE_TOKEN = "7000000002:SANDBOX-bare-ptb-token"
ANSWERS = 6
DONE = "Klaar, dank je wel"
BARE_CONCURRENCY = 16  # bot.runtime.inbox.Inbox's default concurrency


def is_question(message: Any) -> bool:
    return "Vraag " in (message.text or "") and " van " in (message.text or "")


def is_step(text: str) -> bool:
    """A question or the closing message: what a student answers, or the end."""
    return ("Vraag " in text and " van " in text) or DONE in text


async def answer_one(
    api: Any, user: Any, question: Any, index: int, token: str | None = None
) -> Any:
    """As tests/e2e/test_checkin.py: a rating, the first choice, or a typed answer."""
    mark = api.mark(user, token=token)
    labels = [b["text"] for b in question.buttons()]
    if "1" in labels:
        await api.press(user, question, str(2 + (user.id + index) % 3), token=token)
    elif labels and labels != ["Overslaan"]:
        await api.press(user, question, labels[0], token=token)
    else:
        text = f"Ik las voor aan een groepje peuters ({user.first_name})."
        await api.send_text(user, text, token=token)
    # the bare app's next message is always the next step (mentorbot may send others)
    wanted = None if token else (lambda m: is_step(m.text or ""))
    return await api.wait_for_message(user, wanted, since=mark, timeout=60, token=token)


async def mentor_student(api: Any, user: Any, first: Any) -> int:
    message, answered = first, 0
    while is_question(message) and answered < ANSWERS:
        message = await answer_one(api, user, message, answered)
        answered += 1
    return answered


async def bare_student(api: Any, user: Any, first: Any) -> int:
    message = first
    for index in range(ANSWERS):
        message = await answer_one(api, user, message, index, token=BARE_TOKEN)
    return ANSWERS


def _write_profile(profiler: Any, prefix: str) -> None:
    from pyinstrument.renderers import ConsoleRenderer

    session = profiler.last_session
    Path(f"{prefix}.txt").write_text(ConsoleRenderer(unicode=True).render(session))
    flat = ConsoleRenderer(unicode=True, flat=True, show_all=True).render(session)
    Path(f"{prefix}-flat.txt").write_text(flat)


async def measure(drive: Any, profiler: Any = None) -> dict[str, float]:
    """Updates, wall seconds, updates/s and the process's CPU ms per update (the sandbox's
    share included: the same work for both apps). The CPU figure hardly moves with the load
    of the machine; the wall figure does."""
    # One process holds both apps and the sandbox (whose message history grows all run): a
    # full garbage collection scans all of it, ~90 ms here, and lands in whichever turn
    # happens to trip it (before ingest8, mostly the bare app's). Collected before each
    # turn and frozen, so a turn's collections cost what that turn's own objects cost.
    gc.collect()
    gc.freeze()
    if profiler is not None:
        profiler.start()
    start, cpu = time.perf_counter(), time.process_time()
    n = sum(await drive())
    if profiler is not None:
        profiler.stop()
    seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    return {"updates": n, "seconds": seconds, "per_s": n / seconds, "cpu_ms": 1000 * cpu_s / n}


def report(name: str, repeat: int, run: dict[str, float]) -> None:
    sql = (f", {run['statements']:.2f} statements and {run['commits']:.2f} commits/update"
           if "statements" in run else "")  # fmt: skip
    print(f"  {name:9} #{repeat}: {run['updates']:.0f} updates in {run['seconds']:.2f}s = "
          f"{run['per_s']:.1f}/s, CPU {run['cpu_ms']:.1f} ms/update{sql}", flush=True)  # fmt: skip


class SqlCounter:
    """SQL statements and commits of mentorbot's engine (`--count-sql`: a listener per
    statement costs a little CPU, so the CPU figures are read from runs without it)."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        from storage import sqlite_inloop

        self.statements = self.commits = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._statement)
        # every commit reaches SQLite through the driver's commit_now, also those of the
        # writer connection that SQLAlchemy never sees (`Database._writing`)
        commit_now = sqlite_inloop.Connection.commit_now

        def counted(connection: Any) -> None:
            self.commits += 1
            commit_now(connection)

        sqlite_inloop.Connection.commit_now = counted  # type: ignore[method-assign]

    def _statement(self, *_args: Any) -> None:
        self.statements += 1

    def reading(self) -> tuple[int, int]:
        # with the statements run on SQLite's connection directly (storage.repos.core.rows)
        from storage.repos.core import Direct

        return self.statements + Direct.statements, self.commits


def _profiler(path: str | None) -> Any:
    """pyinstrument (not a dependency: `.venv/bin/pip install pyinstrument`) sampling the event
    loop's thread while mentorbot's turns run, whatever task is on it."""
    if path is None:
        return None
    from pyinstrument import Profiler

    return Profiler(interval=0.001, async_mode="disabled")


async def main() -> None:
    from bot.app.application import build_application
    from bot.app.embedded import running
    from bot.schedule.rounds import open_round
    from storage import migrate
    from storage.db import Database
    from storage.repos import CohortRepo, MemberRepo
    from tests.conftest import make_settings
    from tgsandbox import SandboxServer
    from tgsandbox.tests.sandbox_helpers import polling

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--profile",
        metavar="PREFIX",
        help="write pyinstrument profiles of each app's turns: PREFIX-<app>.txt (and -flat.txt)",
    )
    parser.add_argument(
        "--bare-transport",
        choices=("httpx", "aiohttp"),
        default="httpx",
        help="the bare app's HTTP client: PTB's default (httpx) or mentorbot's (aiohttp)",
    )
    parser.add_argument(
        "--bare-content",
        choices=("mirror", "short"),
        default="mirror",
        help="the bare app's messages: mentorbot's own texts and keyboards (mirror), or a "
        "short text with five one-character buttons (short, the baseline before 7 Dec 2026)",
    )
    parser.add_argument(
        "--count-sql", action="store_true", help="count mentorbot's statements and commits"
    )
    args = parser.parse_args()
    profilers = {name: _profiler(args.profile) for name in ("bare", "mentorbot")}
    logging.basicConfig(level=logging.WARNING)
    print(f"ingest: {args.students} students × {ANSWERS} answers, mentorbot (SQLite) and a bare "
          f"PTB app ({args.bare_transport}) on one sandbox; load {load_average()}",
          flush=True)  # fmt: skip
    tmp = tempfile.TemporaryDirectory(prefix="bench-ingest-")
    url = f"sqlite+aiosqlite:///{Path(tmp.name) / 'ingest.db'}"
    await migrate.upgrade(url)
    runs: dict[str, list[dict[str, float]]] = {"bare": [], "mentorbot": []}
    async with SandboxServer() as api:
        api.add_bot(BARE_TOKEN, username="bare_bot", first_name="Bare")
        mentor_users = [api.add_user(f"M{i:03d}") for i in range(args.students)]
        bare_users = [api.add_user(f"B{i:03d}") for i in range(args.students)]
        setup = Database(url)
        now = datetime.now(UTC)
        async with setup.transaction() as s:
            cohort = await CohortRepo(s).create("INGEST", date(2026, 9, 1), "Europe/Amsterdam")
            for user in mentor_users:
                await MemberRepo(s).add_active(
                    cohort.id, "student", name=user.first_name, telegram_user_id=user.id,
                    chat_id=user.id, consent_version="bench", now=now,
                )  # fmt: skip
        await setup.dispose()
        # The send limit lifted (issue 14): replies go through the bot's limiter now, and at
        # the default 30/s it, not the handling, would set the pace.
        settings = make_settings(url, api.base_url, MENTORBOT_SEND_RATE=1000)
        app = build_application(settings, migrate_on_start=False, scheduler=False)
        bare, script, send_first = bare_application(
            api, BARE_TOKEN, BARE_CONCURRENCY, args.bare_transport
        )
        if args.bare_content == "short":
            script.steps = Script.short(ANSWERS).steps
        async with running(app), polling(bare):
            services = app.bot_data.live()
            counter = SqlCounter(services.db.engine) if args.count_sql else None
            for repeat in range(1, args.repeats + 1):
                # mentorbot first (the bare app then sends what it sent): the week's
                # reflection through the outbox, then the answers
                marks = {u.id: api.mark(u) for u in mentor_users}
                due = datetime.now(UTC)
                opened = await open_round(
                    services.db, cohort.id, repeat, "reflection", due, due + timedelta(seconds=1)
                )
                await services.round_opened(opened)
                firsts = [
                    await api.wait_for_message(
                        u,
                        lambda m, w=repeat: f"reflectie van week {w}" in (m.text or ""),
                        since=marks[u.id],
                        timeout=60,
                    )
                    for u in mentor_users
                ]
                before = counter.reading() if counter else (0, 0)
                run = await measure(
                    lambda firsts=firsts: asyncio.gather(
                        *(
                            mentor_student(api, u, f)
                            for u, f in zip(mentor_users, firsts, strict=True)
                        )
                    ),
                    profilers["mentorbot"],
                )
                if counter is not None:  # everything the process ran meanwhile, per update
                    after = counter.reading()
                    run["statements"] = (after[0] - before[0]) / run["updates"]
                    run["commits"] = (after[1] - before[1]) / run["updates"]
                runs["mentorbot"].append(run)
                report("mentorbot", repeat, run)
                # the alert checks queued by the last completions run on after the turn: not
                # into the bare turn, which would pay for mentorbot's work
                await services.alert_checks_done()
                if args.bare_content == "mirror":
                    sent = api.messages(mentor_users[0])[marks[mentor_users[0].id] :]
                    script.steps = Script.capture(sent, is_step).steps
                if repeat == 1:
                    print(f"  the bare app's messages ({args.bare_content}): {script.describe()}")
                # bare: the first question straight from the bot, then the users answer
                firsts = []
                for user in bare_users:
                    mark = api.mark(user, token=BARE_TOKEN)
                    await send_first(user)
                    firsts.append(await api.wait_for_message(user, since=mark, token=BARE_TOKEN))
                run = await measure(
                    lambda firsts=firsts: asyncio.gather(
                        *(bare_student(api, u, f) for u, f in zip(bare_users, firsts, strict=True))
                    ),
                    profilers["bare"],
                )
                runs["bare"].append(run)
                report("bare", repeat, run)
        violations = list(api.violations)
    tmp.cleanup()
    for name, profiler in profilers.items():
        if profiler is not None:
            _write_profile(profiler, f"{args.profile}-{name}")
    bare_rate = statistics.fmean(r["per_s"] for r in runs["bare"])
    mentor_rate = statistics.fmean(r["per_s"] for r in runs["mentorbot"])
    ratio = mentor_rate / bare_rate
    pairs = [m["per_s"] / b["per_s"] for m, b in zip(runs["mentorbot"], runs["bare"], strict=True)]
    cpu = {name: statistics.fmean(r["cpu_ms"] for r in rows) for name, rows in runs.items()}
    print()
    print(f"{'app':10} {'updates/s (each turn)':>30} {'mean':>8}")
    for name, rows in runs.items():
        each = ", ".join(f"{r['per_s']:.1f}" for r in rows)
        print(f"{name:10} {each:>30} {statistics.fmean(r['per_s'] for r in rows):8.1f}")
    print(f"ratio mentorbot/bare: {ratio:.2f} (per turn: {', '.join(f'{p:.2f}' for p in pairs)}); "
          f"target ≥ {TARGET}; sandbox violations: {len(violations)}")  # fmt: skip
    print(f"CPU per update: bare {cpu['bare']:.1f} ms, mentorbot {cpu['mentorbot']:.1f} ms; "
          f"bare/mentorbot {cpu['bare'] / cpu['mentorbot']:.2f}")  # fmt: skip
    emit(
        "ingest",
        students=args.students,
        answers_each=ANSWERS,
        bare_updates_per_s=round(bare_rate, 1),
        mentorbot_updates_per_s=round(mentor_rate, 1),
        ratio=round(ratio, 3),
        ratio_per_turn=[round(p, 3) for p in pairs],
        cpu_ms_per_update={name: round(ms, 2) for name, ms in cpu.items()},
        cpu_ratio=round(cpu["bare"] / cpu["mentorbot"], 3),
        target=TARGET,
        met=ratio >= TARGET,
        violations=len(violations),
        runs=runs,
    )


if __name__ == "__main__":
    asyncio.run(main())
