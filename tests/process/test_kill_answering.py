"""SIGKILL while students are answering (SPEC §8): every answer the bot confirmed before it
died (the callback answer "Opgeslagen ✓", or that reply to a typed answer) is in the database,
before and after a restart; the restarted bot handles the presses it had not handled."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from bot.checkin.flow import ANSWER
from bot.schedule.on_demand import push
from storage.models import Answer, Prompt
from tests.process.conftest import SIGKILL, World
from tgsandbox import DEFAULT_TOKEN, SandboxUser, SentMessage

STUDENTS = 12
KILL_AFTER = 25  # confirmed answers
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

    # python-telegram-bot confirms fetched updates to Telegram (the next getUpdates offset)
    # before it handles them, so presses that were waiting in the dead bot's memory are gone:
    # those students saw no confirmation. They tap again, and the restarted bot stores them.
    restarted = await world.start_bot()
    retried = []
    for press in presses:
        if press.query_id not in answered:
            retried.append(await api.press_button(press.user, press.message, press.data))
    for query_id in retried:
        answer = await api.wait_for_callback_answer(query_id, timeout=20)
        assert SAVED in (answer.text or "") or "al gegeven" in (answer.text or "")
    assert await missing(presses) == []  # now every press, confirmed at last
    for process in (bot, restarted):  # INFO logs: no token, nothing a student typed
        log = process.log()
        assert DEFAULT_TOKEN not in log
        assert not [t.text for t in typed if t.text in log]
