"""Three webhook instances on one PostgreSQL database; one is SIGKILLed while a class answers its
reflection and another class's round is going out.

Each instance has its own host name (containers), so the survivors learn of the death only
from the lease that stops being renewed (ttl 10 s). What SPEC §7 promises is asserted: within
30 s of the kill every update the dead instance had accepted (answered 200, so stored in the
inbox) or was handling is handled by a survivor, and the round's rows it was sending are out.
Every student finishes the reflection without tapping anything twice (each wait 30 s, or until
30 s after the kill when the kill fell inside it: the tap the dead instance held may have been
made seconds before the kill), every answer is stored once, nothing is parked, and the other
class has its whole round, duplicates only for requests in flight. The whole round is a
liveness check (`ROUND_DONE`), not a recovery time: after the kill it goes at the survivors'
pace, one or two requests in flight each with replies first (SPEC §7), and on a loaded 2-core
machine that was 1.2-2.4 messages/s while the class answered (so 150 can take over 30 s).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import func, select

from bot.schedule.on_demand import push as push_round
from storage.models import Answer, InboxUpdate, OutboxMessage
from tests.conftest import require_postgres
from tests.multi.helpers import Instances, postgres_world, webhook_runs
from tests.processes import SIGKILL, BotProcess, eventually
from tgsandbox import SandboxServer, SandboxUser, SentMessage

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(240)]

ANSWERING = 30
ROUND = 150  # students of the other class, whose round goes out meanwhile
KILL_AFTER = 45  # confirmed answers before the kill
SECRET = "Kill_mid_answering_S3cret"
RECOVERY = 30.0  # seconds
ROUND_DONE = 90.0  # seconds from the kill to the whole round out: a liveness bound, see below
SAVED = "Opgeslagen"
DONE = "Klaar, dank je wel"
T = TypeVar("T")


def is_question(message: SentMessage) -> bool:
    body = message.text or ""
    return "Vraag " in body and " van " in body


def is_expectations(message: SentMessage) -> bool:
    return (message.text or "").startswith("📋 Week 1:")


def saved(message: SentMessage) -> bool:
    return SAVED in (message.text or "")


def number(message: SentMessage) -> str:
    """ "Vraag 3 van 6": which question a message asks."""
    body = message.text or ""
    return body[body.index("Vraag ") :].split(":")[0].split("\n")[0]


@dataclass
class Kill:
    """When the instance was killed (time.monotonic()); None before."""

    at: float | None = None

    def left_after(self, started: float) -> float:
        """Seconds a wait that began at `started` may still take because the kill fell inside
        it: SPEC §7 promises what was in flight at a kill within 30 s of the kill, not of the
        tap (a tap the dead instance held may have been made seconds before)."""
        if self.at is None or self.at < started:
            return 0.0
        return self.at + RECOVERY - time.monotonic()


async def patiently(wait: Callable[[float], Awaitable[T]], kill: Kill) -> T:
    """`wait(timeout)` for RECOVERY seconds, or until RECOVERY after a kill that fell inside."""
    started = time.monotonic()
    try:
        return await wait(RECOVERY)
    except TimeoutError:
        left = kill.left_after(started)
        if left <= 0:
            raise
        return await wait(left)


class Stuck(AssertionError):
    """A student waited in vain: who, for what, and what they did before (for the report)."""

    def __init__(self, user: SandboxUser, waiting_for: str, trace: list[str]) -> None:
        super().__init__(f"{user.first_name} (id {user.id}) waited in vain for {waiting_for}")
        self.user, self.trace = user, trace


async def answer_all(
    api: SandboxServer, user: SandboxUser, confirmed: list[int], kill: Kill
) -> None:
    """Answer every question once, like a student who never taps twice. A question sent again
    (the reply of an update handled again after the kill) is passed over, as a student would."""
    trace: list[str] = []
    try:
        await _answer_all(api, user, confirmed, kill, trace)
    except TimeoutError:
        raise Stuck(user, trace[-1] if trace else "the first question", trace) from None


async def _answer_all(
    api: SandboxServer, user: SandboxUser, confirmed: list[int], kill: Kill, trace: list[str]
) -> None:
    def step(what: str) -> None:
        trace.append(f"{time.monotonic():.2f} {what}")

    done: set[str] = set()

    def new_question(m: SentMessage) -> bool:
        return (is_question(m) and number(m) not in done) or DONE in (m.text or "")

    step("the first question")
    message = await patiently(partial(api.wait_for_message, user, is_question), kill)
    while is_question(message):
        mark = api.mark(user)
        labels = [b["text"] for b in message.buttons()]
        if labels and labels != ["Overslaan"]:
            label = "3" if "3" in labels else labels[0]
            query_id = await api.press(user, message, label)
            step(f"the callback answer to {number(message)}")
            answer = await patiently(partial(api.wait_for_callback_answer, query_id), kill)
            assert SAVED in (answer.text or "") or "al gegeven" in (answer.text or "")
        else:
            await api.send_text(user, f"Ik las voor aan de peuters ({user.first_name}).")
            step(f"'{SAVED}' after the text to {number(message)}")
            await patiently(partial(api.wait_for_message, user, saved, since=mark), kill)
        confirmed.append(user.id)
        done.add(number(message))
        step(f"the question after {number(message)}")
        message = await patiently(
            partial(api.wait_for_message, user, new_question, since=mark), kill
        )
    assert DONE in (message.text or ""), message.text


async def stuck_report(
    world: Instances, stuck: Stuck, killed_at: float, bots: list[BotProcess]
) -> str:
    """What a stuck student did (seconds from the kill), their updates in the inbox and the
    messages they got: enough to tell a lost reply from an update that was never handled."""
    since_kill = [
        f"{float(t) - killed_at:+.2f}s {w}" for t, w in (e.split(" ", 1) for e in stuck.trace)
    ]
    async with world.db.transaction() as s:
        rows = (
            await s.execute(
                select(
                    InboxUpdate.update_id, InboxUpdate.status, InboxUpdate.attempts,
                    InboxUpdate.claimed_by, InboxUpdate.last_error, InboxUpdate.received_at,
                    InboxUpdate.handled_at,
                ).where(InboxUpdate.user_key == stuck.user.id).order_by(InboxUpdate.update_id)
            )
        ).all()  # fmt: skip
    got = [(m.message_id, (m.text or "")[:60]) for m in world.api.messages(stuck.user)]
    pids = [bot.pid for bot in bots]
    return "\n".join(
        [str(stuck), f"instances (pids) {pids}, killed {pids[1]}", *since_kill, "inbox:"]
        + [repr(tuple(row)) for row in rows]
        + ["messages:"]
        + [repr(m) for m in got]
    )


def sends_by_window(
    api: SandboxServer, answering: list[SandboxUser], others: list[SandboxUser], since: float
) -> list[tuple[int, int]]:
    """Messages accepted per 5 s from `since`: (to the answering class, to the other class)."""
    windows: list[list[int]] = []
    for column, users in enumerate((answering, others)):
        for user in users:
            for stamp in api.stats.send_times.get(user.id, []):
                if stamp >= since:
                    index = int((stamp - since) // 5)
                    windows.extend([0, 0] for _ in range(index + 1 - len(windows)))
                    windows[index][column] += 1
    return [(a, b) for a, b in windows]


def questions_sent_twice(api: SandboxServer, users: list[SandboxUser]) -> list[str]:
    """Each repeat of a question to a student, as `user id: question number`."""
    return [
        f"{user.id}: {question}"
        for user in users
        for question, n in Counter(number(m) for m in api.messages(user) if is_question(m)).items()
        for _repeat in range(n - 1)
    ]


async def in_doubt_chats(world: Instances, rows: list[int]) -> list[int]:
    """The chats of the outbox rows the dead instance held (a chat once per row)."""
    async with world.db.transaction() as s:
        found = await s.scalars(select(OutboxMessage.chat_id).where(OutboxMessage.id.in_(rows)))
        return [int(chat) for chat in found]


async def updates_held_by(world: Instances, pid: int) -> int:
    """How many inbox updates an instance (by pid) holds `handling`: in doubt if it died."""
    async with world.db.transaction() as s:
        held = await s.scalar(
            select(func.count()).where(
                InboxUpdate.status == "handling", InboxUpdate.claimed_by.like(f"%:{pid}:%")
            )
        )
    return int(held or 0)


async def rows_sent(world: Instances, rows: list[int]) -> bool:
    """Every one of the outbox rows is recorded as sent (by a survivor, after the kill)."""
    async with world.db.transaction() as s:
        statuses = list(
            await s.scalars(select(OutboxMessage.status).where(OutboxMessage.id.in_(rows)))
        )
    return all(status == "sent" for status in statuses)


async def settled_at(waiting: Awaitable[object]) -> float:
    """When (time.monotonic()) `waiting` finished."""
    await waiting
    return time.monotonic()


async def reached(api: SandboxServer, check: Callable[[], bool], timeout: float) -> float:  # noqa: ASYNC109
    """When (time.monotonic()) `check()` first held."""
    await api.wait_until(check, timeout=timeout)
    return time.monotonic()


async def test_a_kill_mid_round_and_mid_answering_loses_nothing(tmp_path: Path) -> None:
    await require_postgres()
    async with postgres_world(tmp_path) as world:
        world.extra_env["MENTORBOT_SEND_RATE"] = "30"  # the bot's: the three share it
        await scenario(world)


async def scenario(world: Instances) -> None:
    api = world.api
    _, urls, runs = webhook_runs(3, SECRET)
    bots = await world.start_together(*runs)
    hook = api.bot()
    hook.webhook_targets = urls  # round-robin; the next one when a target does not answer
    answering = await world.students(await world.cohort("PW3A", weeks_back=0), ANSWERING, "A")
    others = await world.students(await world.cohort("PW3B", weeks_back=0), ROUND, "B")
    api.faults.delay("sendMessage", 0.1)

    def round_out() -> Counter[int]:
        return +Counter({u.id: sum(map(is_expectations, hook.messages(u.id))) for u in others})

    confirmed: list[int] = []
    await push_round(world.db, "PW3A", "reflection", 1, now=datetime.now(UTC))
    kill = Kill()
    watchers: list[asyncio.Task[float]] = []
    students = [asyncio.create_task(answer_all(api, u, confirmed, kill)) for u in answering]
    await api.wait_until(lambda: len(confirmed) >= KILL_AFTER // 3, timeout=60)
    await push_round(world.db, "PW3B", "expectations", 1, now=datetime.now(UTC))
    try:
        await api.wait_until(lambda: len(confirmed) >= KILL_AFTER and round_out(), timeout=60)
        victim = bots[1]
        db_ports = world.database_ports(victim.pid)
        victim.signal(SIGKILL)
        killed_at, killed_wall = time.monotonic(), datetime.now(UTC)
        kill.at = killed_at
        assert await victim.exit_code(5) == -SIGKILL
        await world.sessions_over(db_ports)
        assert len(round_out()) < ROUND, "the kill came too late to land mid-round"
        in_doubt = await world.claims_of(victim.pid)
        held = await updates_held_by(world, victim.pid)
        chats = await in_doubt_chats(world, in_doubt)
        # SPEC §7: what was in flight at the kill is out within 30 s of it; the rest of the
        # round goes out at the pace of the survivors (1-2 requests in flight each, replies
        # first), which on a loaded 2-core machine may take longer than that
        left = killed_at + RECOVERY - time.monotonic()
        # the rows themselves, not their chats: a row in doubt may be a question or an alert
        # to a chat outside the round's class (its chat never gets an expectations message)
        held_out = eventually(partial(rows_sent, world, in_doubt), left, "the rows in doubt sent")
        watchers.append(asyncio.create_task(settled_at(held_out)))
        whole = reached(api, lambda: len(round_out()) == ROUND, ROUND_DONE)
        watchers.append(asyncio.create_task(whole))
        try:
            await asyncio.gather(*students)  # every student finishes; no tap repeated
        except Stuck as stuck:
            raise AssertionError(await stuck_report(world, stuck, killed_at, bots)) from stuck
        answered_in = time.monotonic() - killed_at
        try:
            assert await watchers[0] - killed_at < RECOVERY  # the rows in doubt went out
            await watchers[1]  # and the whole round
        except TimeoutError:
            raise AssertionError(
                f"the round: {len(round_out())} of {ROUND} out (in doubt: {sorted(set(chats))}); "
                f"the students finished {answered_in:.1f}s after the kill; sends "
                f"(answering/round) per 5 s from it: "
                f"{sends_by_window(api, answering, others, killed_at)}"
            ) from None
    finally:
        for task in [*students, *watchers]:
            task.cancel()
        await asyncio.gather(*students, *watchers, return_exceptions=True)

    async def settled() -> bool:
        """An update is marked handled after its reply went out: the last replies can be
        seen a moment before their updates are marked."""
        async with world.db.transaction() as s:
            open_rows = await s.scalar(
                select(func.count()).where(InboxUpdate.status.in_(("pending", "handling")))
            )
        return not open_rows

    await eventually(settled, RECOVERY, "every update that reached an instance marked handled")
    async with world.db.transaction() as s:
        statuses = dict(
            (await s.execute(select(InboxUpdate.status, func.count()).group_by("status"))).all()
        )
        taken_back = (
            await s.execute(select(InboxUpdate.handled_at).where(InboxUpdate.attempts > 1))
        ).all()
        doubled = (
            await s.execute(
                select(Answer.member_id, Answer.question_key)
                .group_by(Answer.round_id, Answer.member_id, Answer.question_key)
                .having(func.count() > 1)
            )
        ).all()
        repeats = int(await s.scalar(select(func.sum(OutboxMessage.repeats))) or 0)
    assert set(statuses) == {"handled"}, statuses  # none pending, none parked
    # every update the dead instance held was handled again by a survivor (usually some are;
    # now and then the kill falls between two updates and it holds none)
    assert len(taken_back) >= held, (held, taken_back)
    assert doubled == []
    # updates the dead instance had accepted were handled by a survivor within 30 s of the kill
    assert all(
        at is not None and (at - killed_wall).total_seconds() < RECOVERY for (at,) in taken_back
    )
    # a question sent twice only as the reply of an update handled again after the kill, or as
    # a row the dead instance was sending (a first question still queued behind the replies)
    repeated = questions_sent_twice(api, answering)
    queued_to_them = [chat for chat in chats if chat in {u.id for u in answering}]
    assert len(repeated) <= len(taken_back) + len(queued_to_them), (repeated, queued_to_them)
    duplicates = sum(n - 1 for n in round_out().values())
    assert len(in_doubt) <= 2 and duplicates <= repeats, (in_doubt, duplicates, repeats)
    assert repeats >= len(in_doubt)
    assert "reaped instance=" in bots[0].log() + bots[2].log()
    assert api.violations == []
