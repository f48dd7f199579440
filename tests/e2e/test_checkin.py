"""A class of 25 receives week 1 and answers it through the real bot: every answer stored
once, students who stop halfway resume with /verder, reminders only to the unfinished."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from storage.models import Answer, OutboxMessage, Participation
from tests.harness import Harness
from tgsandbox import SandboxUser, SentMessage

DONE = "Klaar, dank je wel"


def is_question(message: SentMessage) -> bool:
    return "Vraag " in (message.text or "") and " van " in (message.text or "")


async def answer_one(
    h: Harness, user: SandboxUser, question: SentMessage, index: int
) -> SentMessage:
    """Answer `question` the way a student would; returns the bot's next message."""
    mark = h.api.mark(user)
    labels = [b["text"] for b in question.buttons()]
    if "1" in labels:  # a rating: mostly 3-4, a 2 now and then
        await h.api.press(user, question, str(2 + (user.id + index) % 3))
    elif labels and labels != ["Overslaan"]:  # a choice
        await h.api.press(user, question, labels[0])
    else:  # a text question
        await h.api.send_text(user, f"Ik las voor aan een groepje peuters ({user.first_name}).")
        await h.api.wait_for_message(user, lambda m: "Opgeslagen" in (m.text or ""), since=mark)
    return await h.api.wait_for_message(
        user, lambda m: is_question(m) or DONE in (m.text or ""), since=mark
    )


async def answer_until(
    h: Harness, user: SandboxUser, first: SentMessage, stop_after: int | None
) -> int:
    message, answered = first, 0
    while is_question(message) and (stop_after is None or answered < stop_after):
        message = await answer_one(h, user, message, answered)
        answered += 1
    return answered


async def count(h: Harness, model: type, *where: object) -> int:
    async with h.db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_class_of_25_answers_week_1_and_halfway_students_resume(h: Harness) -> None:
    cohort_id = await h.cohort()
    students = [h.api.add_user(f"Student{i:02d}") for i in range(25)]
    for user in students:
        await h.join(user, await h.code(cohort_id))

    scheduler = h.state.live().scheduler
    assert (await scheduler.push(cohort_id, "expectations", week=1)).created
    for user in students:
        expectations = await h.api.wait_for_message(
            user, lambda m: "Week 1" in (m.text or ""), timeout=20
        )
        assert [b["text"] for b in expectations.buttons()] == ["Begrepen", "Vraag hierover"]
    assert not (await scheduler.push(cohort_id, "expectations", week=1)).created  # idempotent

    await scheduler.push(cohort_id, "reflection", week=1)
    firsts = [
        await h.api.wait_for_message(
            u, lambda m: "reflectie van week 1" in (m.text or ""), timeout=20
        )
        for u in students
    ]
    halfway = students[:5]
    counts = await asyncio.gather(
        *(
            answer_until(h, u, f, 2 if u in halfway else None)
            for u, f in zip(students, firsts, strict=True)
        )
    )
    total_questions = counts[-1]
    assert total_questions >= 5 and all(c == 2 for c in counts[:5])
    assert await count(h, Participation, Participation.completed_at.is_not(None)) == 20

    # the halfway students get a reminder; those who finished get none
    await scheduler.push(cohort_id, "reminder", week=1)
    for user in halfway:
        reminder = await h.api.wait_for_message(
            user, lambda m: "nog niet af" in (m.text or ""), timeout=20
        )
        mark = h.api.mark(user)
        await h.api.press(user, reminder, "Verder")
        question = await h.api.wait_for_message(user, is_question, since=mark)
        await answer_until(h, user, question, None)
    assert await count(h, OutboxMessage, OutboxMessage.kind == "round") == 25 * 2 + 5
    assert await count(h, Participation, Participation.completed_at.is_not(None)) == 25
    ratings = await count(h, Answer, Answer.rating.is_not(None))
    assert ratings == 25 * 3  # three focus skills in week 1, each rating stored once
    assert await count(h, Answer, Answer.question_key.like("rating-%")) == ratings


async def test_double_tap_and_changing_an_answer(h: Harness) -> None:
    cohort_id = await h.cohort()
    user = h.api.add_user("Tess")
    await h.join(user, await h.code(cohort_id))
    await h.state.live().scheduler.push(cohort_id, "reflection", week=1)
    first = await h.api.wait_for_message(user, lambda m: "reflectie" in (m.text or ""), timeout=20)
    mark = h.api.mark(user)
    await h.api.press(user, first, "2")
    await h.api.press(user, first, "2")  # a double tap: stored once, asked next question once
    await h.api.press(user, first, "4")  # a change of mind
    await h.api.wait_until(
        lambda: len([m for m in h.api.messages(user)[mark:] if is_question(m)]) >= 1
    )
    await h.api.wait_until(
        lambda: "4/5" in (h.api.bot().find_message(user.id, first.message_id).text or "")
    )
    async with h.db.transaction() as s:
        rows = list(await s.scalars(select(Answer.rating).where(Answer.rating.is_not(None))))
    assert rows == [4]
    assert len([m for m in h.api.messages(user)[mark:] if is_question(m)]) == 1


async def test_messages_outside_a_round_and_resume_without_round(h: Harness) -> None:
    cohort_id = await h.cohort()
    user = h.api.add_user("Noor")
    await h.join(user, await h.code(cohort_id))
    reply = await h.say(user, "hoi, is er iets?")
    assert "Er staat nu geen vraag voor je open" in reply.text and "om" in reply.text
    assert "alles ingevuld" in (await h.say(user, "/verder")).text


async def test_forged_button_data_changes_nothing(h: Harness) -> None:
    cohort_id = await h.cohort()
    user, other = h.api.add_user("Ilse"), h.api.add_user("Omar")
    for u in (user, other):
        await h.join(u, await h.code(cohort_id))
    await h.state.live().scheduler.push(cohort_id, "reflection", week=1)
    first = await h.api.wait_for_message(user, lambda m: "reflectie" in (m.text or ""), timeout=20)
    data = first.buttons()[0]["callback_data"]
    for forged in (data, "a:AAAAAAAAAAAA:3", "zz:garbage"):
        query = await h.api.press_button(other, first, forged, check=False)
        answer = await h.api.wait_for_callback_answer(query)
        assert "werkt niet meer" in (answer.text or "")
    assert await count(h, Answer) == 0


async def test_each_answer_costs_one_message_within_telegrams_limit_per_chat(h: Harness) -> None:
    """Telegram takes one message a second per chat: a typed answer is confirmed in the
    message that asks the next question, so no answer meets a 429 or arrives a second late."""
    h.api.set_rate_limits(global_per_second=30, per_chat_per_second=1, per_group_per_minute=20)
    cohort_id = await h.cohort()
    user = h.api.add_user("Tess")
    await h.join(user, await h.code(cohort_id))
    await h.state.live().scheduler.push(cohort_id, "reflection", week=1)
    message = await h.api.wait_for_message(user, is_question, timeout=20)
    mark, answered, typed = h.api.mark(user), 0, []
    refused = h.api.stats.too_many_requests  # joining is not what this test is about
    while is_question(message):
        await asyncio.sleep(1.1)  # the student reads: past the chat's second of the last send
        before = len(h.api.messages(user))
        typed_now = not message.buttons() or [b["text"] for b in message.buttons()] == ["Overslaan"]
        message = await answer_one(h, user, message, answered)
        answered += 1
        if typed_now:
            [reply] = h.api.messages(user)[before:]  # one message: confirmation and what follows
            assert "Opgeslagen ✓" in reply.text and (is_question(reply) or DONE in reply.text)
            typed.append(reply)
    assert DONE in (message.text or "") and typed  # the week has a typed question
    assert len(h.api.messages(user)[mark:]) == answered  # one message per answer
    assert h.api.stats.too_many_requests == refused  # no answer met a 429
