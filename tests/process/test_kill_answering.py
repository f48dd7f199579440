"""SIGKILL while 50 students answer at once: every answer the bot confirmed before
it died (the callback answer "Opgeslagen ✓", or that reply to a typed answer) is in the
database; and, with the inbox, every update that reached the dead process is handled by the
restarted one without anybody tapping again: each press answered, each typed answer confirmed,
each stored once, none parked; replies sent twice only for updates being handled at the kill."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.checkin.flow import ANSWER
from bot.schedule.on_demand import push
from storage.models import Answer, InboxUpdate, Prompt
from tests.processes import SIGKILL, World, eventually
from tgsandbox import DEFAULT_TOKEN, SandboxUser, SentMessage

STUDENTS = 50
KILL_AFTER = 40  # confirmed answers
SAVED = "Opgeslagen"
DONE = "Klaar, dank je wel"


def is_question(message: SentMessage) -> bool:
    text = message.text or ""
    return "Vraag " in text and " van " in text


@dataclass
class Press:
    user: SandboxUser
    data: str  # a:<token>:<value>
    query_id: str
    message: SentMessage


@dataclass
class Typed:
    user: SandboxUser
    text: str
    confirmed: bool = False


@pytest.mark.parametrize(
    "world", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_sigkill_while_answering_loses_no_confirmed_answer(world: World) -> None:
    api = world.api
    cohort_id = await world.cohort()
    users = await world.students(cohort_id, STUDENTS)
    bot = await world.start_bot()
    await push(world.db, "PW3A", "reflection", 1, now=datetime.now(UTC))
    firsts = [await api.wait_for_message(u, is_question, timeout=20) for u in users]

    presses: list[Press] = []
    typed: list[Typed] = []

    def confirmed() -> int:
        answered = api.answered_callbacks
        saved = [
            p for p in presses if SAVED in (getattr(answered.get(p.query_id), "text", None) or "")
        ]
        return len(saved) + sum(t.confirmed for t in typed)

    async def answer_all(user: SandboxUser, message: SentMessage) -> None:
        index = 0
        while is_question(message):
            mark = api.mark(user)
            labels = [b["text"] for b in message.buttons()]
            if labels and labels != ["Overslaan"]:
                label = str(1 + (user.id + index) % 5) if "1" in labels else labels[0]
                button = message.button(label)
                query_id = await api.press(user, message, label)
                presses.append(Press(user, button["callback_data"], query_id, message))
            else:
                entry = Typed(user, f"Antwoord {index} van {user.first_name}")
                typed.append(entry)
                await api.send_text(user, entry.text)
                await api.wait_for_message(user, lambda m: SAVED in (m.text or ""), since=mark)
                entry.confirmed = True
            message = await api.wait_for_message(
                user, lambda m: is_question(m) or DONE in (m.text or ""), since=mark, timeout=30
            )
            index += 1

    tasks = [asyncio.create_task(answer_all(u, f)) for u, f in zip(users, firsts, strict=True)]
    try:
        await api.wait_until(lambda: confirmed() >= KILL_AFTER, timeout=40)
        bot.signal(SIGKILL)
        assert await bot.exit_code(5) == -SIGKILL
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await task

    # Snapshot of what the bot had confirmed when it died (a late answer cannot come now).
    answered = dict(api.answered_callbacks)
    confirmed_presses = [
        p for p in presses if SAVED in (getattr(answered.get(p.query_id), "text", None) or "")
    ]
    confirmed_texts = [t for t in typed if t.confirmed]
    assert len(confirmed_presses) + len(confirmed_texts) >= KILL_AFTER

    async def missing(checked: list[Press]) -> list[str]:
        lost: list[str] = []
        async with world.db.transaction() as s:
            for press in checked:
                token, _, value = press.data[len(ANSWER) :].rpartition(":")
                prompt = await s.get(Prompt, token)
                row = (
                    None
                    if prompt is None
                    else await s.scalar(
                        select(Answer).where(
                            Answer.round_id == prompt.round_id,
                            Answer.member_id == prompt.member_id,
                            Answer.question_key == prompt.question_key,
                        )
                    )
                )
                if row is None or (row.rating is not None and str(row.rating) != value):
                    lost.append(f"{press.user.first_name} {press.data}")
            texts = set(await s.scalars(select(Answer.text).where(Answer.text.is_not(None))))
            lost += [t.text for t in confirmed_texts if t.text not in texts]
        return lost

    assert await missing(confirmed_presses) == []

    # Nobody taps again: what the dead bot had stored is in its inbox, what it had fetched but
    # not stored Telegram still holds (never confirmed), and the restarted bot handles both.
    restarted = await world.start_bot()
    await api.wait_until(lambda: all(p.query_id in api.answered_callbacks for p in presses), 30)

    def saved_replies(user: SandboxUser) -> int:
        return sum(SAVED in (m.text or "") for m in api.messages(user))

    for entry in typed:  # each typed answer confirmed (counting per student)
        mine = sum(t.user is entry.user for t in typed)
        await api.wait_until(lambda u=entry.user, n=mine: saved_replies(u) >= n, 30)
    assert await missing(presses) == []  # every press stored, none tapped twice

    bot_state = api.bot()
    reached = set(bot_state.delivered_update_ids)
    await api.wait_until(lambda: not bot_state.updates, 10)  # all confirmed to Telegram

    async def inbox_settled() -> bool:
        async with world.db.transaction() as s:
            statuses = dict(
                (await s.execute(select(InboxUpdate.status, func.count()).group_by("status"))).all()
            )
        return set(statuses) == {"handled"}

    await eventually(inbox_settled, 20, "every stored update handled")
    async with world.db.transaction() as s:
        stored = list(await s.scalars(select(InboxUpdate.update_id)))
        retried = await s.scalar(
            select(func.count()).select_from(InboxUpdate).where(InboxUpdate.attempts > 1)
        )
        texts = list(await s.scalars(select(Answer.text).where(Answer.text.is_not(None))))
    assert sorted(stored) == sorted(reached)  # each update that reached a process: stored once
    assert len(texts) == len(set(texts))  # each typed answer stored once
    assert {t.text for t in typed} <= set(texts)
    duplicates = 0  # the same question sent twice to a student: a replayed update's reply
    for user in users:
        questions = [m.text for m in api.messages(user) if is_question(m)]
        duplicates += len(questions) - len(set(questions))
    assert any(p.query_id not in answered for p in presses)  # the restart had work to do
    assert duplicates <= retried, (duplicates, retried)
    assert retried <= 16  # at most the updates being handled at the kill
    for process in (bot, restarted):  # INFO logs: no token, nothing a student typed
        log = process.log()
        assert DEFAULT_TOKEN not in log
        assert not [t.text for t in typed if t.text in log]
