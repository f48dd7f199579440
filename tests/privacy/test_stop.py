"""/stop: a Ja/Nee question; Ja stops the rounds, tells the team once, and deletes or keeps
the data as MENTORBOT_DELETE_ON_STOP says; Nee changes nothing; a stopped student can join
again with a new code."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.outbox.queue import Outgoing, Queued, queue
from storage.models import (
    Alert,
    Answer,
    AuditEntry,
    Member,
    OutboxMessage,
    Participation,
    StudentQuestion,
    UserSetting,
)
from storage.personal_data import PERSONAL_TABLES
from tests.harness import Harness
from tests.privacy.helpers import Klas, count, klas
from tgsandbox import SandboxUser, SentMessage

STOPPED_NOTICE = "is gestopt met de wekelijkse vragen"
# every registered table that names a member: after /stop with deletion none names the student
PER_MEMBER = tuple(t.model for t in PERSONAL_TABLES if t.member_column == "member_id")


async def ask_stop(h: Harness, user: SandboxUser) -> SentMessage:
    question = await h.say(user, "/stop")
    assert "Wil je echt stoppen met de vragen van je mentorteam (PW3A)?" in question.text
    assert [b["text"] for b in question.buttons()] == ["Ja, stoppen", "Nee, toch niet"]
    assert all(b["callback_data"].startswith("st:") for b in question.buttons())
    return question


async def press(h: Harness, user: SandboxUser, message: SentMessage, label: str) -> SentMessage:
    """Tap `label` under `message`; returns the bot's next new message in that chat."""
    mark = h.api.mark(user)
    await h.api.press(user, message, label)
    return await h.api.wait_for_message(user, since=mark)


async def pending_row_for(h: Harness, k: Klas, member_id: int, chat_id: int) -> None:
    """A message for the student that waits until tomorrow: /stop must cancel it."""
    # the outbox sender paces real traffic on the wall clock: "tomorrow" is the sender's
    later = datetime.now(UTC) + timedelta(days=1)
    async with h.db.transaction() as s:
        item = Queued(f"test:{member_id}", chat_id, "notice", Outgoing("later"), k.cohort_id,
                      member_id=member_id)  # fmt: skip
        await queue(s, [item], later)


async def drained(h: Harness) -> None:
    """Wait until the sender has nothing due left."""
    due = OutboxMessage.not_before <= datetime.now(UTC) + timedelta(hours=1)
    for _ in range(200):
        if not await count(h, OutboxMessage, OutboxMessage.status.in_(("pending", "sending")), due):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox did not drain")


async def rounds_stop_and_team_is_told_once(h: Harness, k: Klas) -> None:
    """After Anna stopped: the mentor got one notice; a new round reaches Bram, not Anna."""
    notice = await h.api.wait_for_message(
        k.mentor, lambda m: STOPPED_NOTICE in (m.text or ""), timeout=10
    )
    assert "Anna de Vries (PW3A)" in notice.text
    pushed_at = h.clock.advance(timedelta(minutes=1))  # rows from here on are the new round's
    mark_anna = h.api.mark(k.anna)
    await h.state.live().scheduler.push(k.cohort_id, "expectations", week=1)
    await h.api.wait_for_message(k.bram, lambda m: "Week 1" in (m.text or ""), timeout=20)
    await drained(h)
    assert h.api.messages(k.anna)[mark_anna:] == []
    to_anna = OutboxMessage.chat_id == k.anna.id, OutboxMessage.kind == "round"
    to_anna += (OutboxMessage.created_at >= pushed_at,)
    assert await count(h, OutboxMessage, *to_anna) == 0
    notices = [m for m in h.api.messages(k.mentor) if STOPPED_NOTICE in (m.text or "")]
    assert len(notices) == 1


async def test_stop_keeps_the_data_by_default(h: Harness) -> None:
    k = await klas(h)
    await pending_row_for(h, k, k.anna_id, k.anna.id)
    question = await ask_stop(h, k.anna)
    assert "blijven voor je mentorteam bewaard tot uiterlijk 730 dagen" in question.text
    reply = await press(h, k.anna, question, "Ja, stoppen")
    assert "Je bent gestopt" in reply.text and "bewaard tot uiterlijk 730 dagen" in reply.text
    edited = h.api.bot().find_message(k.anna.id, question.message_id)
    assert edited is not None and edited.buttons() == [] and "➡️ Ja, stoppen" in edited.text

    # a second tap on the old button changes nothing and tells nobody again
    query = await h.api.press_button(k.anna, question, f"st:y:{k.anna_id}", check=False)
    assert "werkt niet meer" in ((await h.api.wait_for_callback_answer(query)).text or "")
    await rounds_stop_and_team_is_told_once(h, k)

    async with h.db.transaction() as s:
        anna = await s.get(Member, k.anna_id)
        assert anna is not None
        assert (anna.status, anna.telegram_user_id, anna.chat_id) == ("stopped", None, None)
        assert anna.name == "Anna de Vries"
        pending = await s.scalar(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == f"test:{k.anna_id}")
        )
        assert pending is not None and (pending.status, pending.last_error) == ("failed", "stopped")
        alert = await s.scalar(select(Alert).where(Alert.member_id == k.anna_id))
        assert alert is not None and alert.status == "resolved" and alert.open_key is None
        audit = [(a.action, a.target, a.actor_user_id) for a in await s.scalars(select(AuditEntry))]
    assert audit == [("student_stopped", f"member:{k.anna_id}:kept", None)]
    assert await count(h, Answer, Answer.member_id == k.anna_id) == 2
    assert await count(h, StudentQuestion, StudentQuestion.member_id == k.anna_id) == 1
    assert "Ik ken je nog niet" in (await h.say(k.anna, "/mijngegevens")).text

    # she can join again with a new code
    welcome = await h.join(k.anna, await h.code(k.cohort_id))
    assert "Je doet nu mee met PW3A" in welcome.text
    assert (
        await count(h, Member, Member.telegram_user_id == k.anna.id, Member.status == "active") == 1
    )


async def test_stop_deletes_the_data_when_configured(hd: Harness) -> None:
    h = hd
    k = await klas(h)
    await pending_row_for(h, k, k.anna_id, k.anna.id)
    await h.say(k.anna, "/taal nl")
    kept = (Answer, Participation, StudentQuestion, Alert)  # the new round adds him a prompt
    bram_before = {m.__name__: await count(h, m, m.member_id == k.bram_id) for m in kept}
    assert all(bram_before.values())
    question = await ask_stop(h, k.anna)
    assert "meteen verwijderd" in question.text
    reply = await press(h, k.anna, question, "Ja, stoppen")
    assert "Je gegevens zijn verwijderd" in reply.text
    await rounds_stop_and_team_is_told_once(h, k)

    for model in PER_MEMBER:
        assert await count(h, model, model.member_id == k.anna_id) == 0, model.__name__
    assert await count(h, Member, Member.id == k.anna_id) == 0
    assert await count(h, Member, Member.name.like("%Anna%")) == 0
    assert await count(h, UserSetting, UserSetting.telegram_user_id == k.anna.id) == 0
    assert await count(h, OutboxMessage, OutboxMessage.member_id == k.anna_id) == 0
    async with h.db.transaction() as s:
        payloads = [str(p) for p in await s.scalars(select(OutboxMessage.payload))]
    assert not [p for p in payloads if "andere stageplek zoeken" in p]  # her question is gone
    # Bram's data is untouched; the class alert keeps only his item
    assert {m.__name__: await count(h, m, m.member_id == k.bram_id) for m in kept} == bram_before
    async with h.db.transaction() as s:
        class_alert = await s.scalar(select(Alert).where(Alert.kind == "class_gap"))
        assert class_alert is not None
        assert [i["student_id"] for i in class_alert.evidence["items"]] == [k.bram_id]
        audit = [(a.action, a.target) for a in await s.scalars(select(AuditEntry))]
    assert audit == [("student_stopped", f"member:{k.anna_id}:deleted")]

    welcome = await h.join(k.anna, await h.code(k.cohort_id))
    assert "Je doet nu mee met PW3A" in welcome.text


async def test_no_changes_nothing(h: Harness) -> None:
    k = await klas(h)
    question = await ask_stop(h, k.anna)
    reply = await press(h, k.anna, question, "Nee, toch niet")
    assert "Er is niets veranderd" in reply.text
    edited = h.api.bot().find_message(k.anna.id, question.message_id)
    assert edited is not None and edited.buttons() == []
    await h.state.live().scheduler.push(k.cohort_id, "expectations", week=1)
    await h.api.wait_for_message(k.anna, lambda m: "Week 1" in (m.text or ""), timeout=20)
    async with h.db.transaction() as s:
        anna = await s.get(Member, k.anna_id)
        assert anna is not None and anna.status == "active" and anna.telegram_user_id == k.anna.id
        assert list(await s.scalars(select(AuditEntry))) == []
    assert await count(h, Answer, Answer.member_id == k.anna_id) == 2
    assert not [m for m in h.api.messages(k.mentor) if STOPPED_NOTICE in (m.text or "")]


async def test_someone_elses_stop_button_does_nothing(h: Harness) -> None:
    k = await klas(h)
    question = await ask_stop(h, k.anna)
    for data in (f"st:y:{k.anna_id}", f"st:y:{k.bram_id + 1000}"):
        query = await h.api.press_button(k.bram, question, data, check=False)
        answer = await h.api.wait_for_callback_answer(query)
        assert "werkt niet meer" in (answer.text or "")
    assert await count(h, Member, Member.status == "stopped") == 0
