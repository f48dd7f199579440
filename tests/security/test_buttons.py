"""Forged and stale callback_data: another student's button, a button of a closed
round, garbage, an alert button pressed by a student, a consent button with an unknown code.
Every press is answered politely (no spinner left, no error), and nothing changes."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Answer, Member
from tests.harness import Harness
from tests.security.helpers import SORRY, changes, db_state, two_classes
from tgsandbox import SandboxUser, SentMessage

STALE = "Deze knop werkt niet meer."
CLOSED = "De vragen van die week zijn gesloten"


async def enrolled(h: Harness, *names: str) -> tuple[int, list[SandboxUser]]:
    cohort_id = await h.cohort()
    users = [h.api.add_user(name) for name in names]
    for user in users:
        await h.join(user, await h.code(cohort_id))
    return cohort_id, users


async def reflection(h: Harness, user: SandboxUser, week: int) -> SentMessage:
    return await h.api.wait_for_message(
        user, lambda m: f"reflectie van week {week}" in (m.text or ""), timeout=20
    )


async def press(h: Harness, user: SandboxUser, message: SentMessage, data: str) -> str:
    """Press `data` (forged or not) on `message`; returns the callback answer's text."""
    query = await h.api.press_button(user, message, data, check=False)
    return (await h.api.wait_for_callback_answer(query)).text or ""


def sorry_in(h: Harness, *users: SandboxUser) -> list[str]:
    return [m.text for u in users for m in h.api.messages(u) if SORRY in (m.text or "")]


async def test_another_students_question_and_expectations_buttons(h: Harness) -> None:
    cohort_id, (ilse, omar) = await enrolled(h, "Ilse", "Omar")
    scheduler = h.state.live().scheduler
    await scheduler.push(cohort_id, "expectations", week=1)
    expectations = await h.api.wait_for_message(ilse, lambda m: "Week 1" in (m.text or ""))
    await scheduler.push(cohort_id, "reflection", week=1)
    question = await reflection(h, ilse, 1)
    await reflection(h, omar, 1)
    before, omar_mark = await db_state(h), h.api.mark(omar)
    rating = question.buttons()[0]["callback_data"]  # a:<Ilse's token>:1
    token = rating.split(":")[1]
    for data in (
        rating,
        f"k:{token}",  # skip Ilse's question
        f"a:{token}:5",
        *(b["callback_data"] for b in expectations.buttons()),  # e:<token>:ok / :q
    ):
        assert STALE in await press(h, omar, question, data), data
    assert h.api.messages(omar)[omar_mark:] == []  # no question, no ForceReply for Omar
    assert changes(before, await db_state(h)) == {}
    assert sorry_in(h, ilse, omar) == []


async def test_own_button_with_a_value_that_was_never_offered(h: Harness) -> None:
    cohort_id, (ilse,) = await enrolled(h, "Ilse")
    await h.state.live().scheduler.push(cohort_id, "reflection", week=1)
    question = await reflection(h, ilse, 1)
    token = question.buttons()[0]["callback_data"].split(":")[1]
    before = await db_state(h)
    for data in (f"a:{token}:0", f"a:{token}:6", f"a:{token}:99", f"k:{token}"):
        # a rating has 1-5 and no skip: anything else is refused
        assert STALE in await press(h, ilse, question, data), data
    assert changes(before, await db_state(h)) == {}
    assert "Vraag 1 van" in (h.api.bot().find_message(ilse.id, question.message_id).text or "")


async def test_a_button_of_a_closed_round_changes_nothing(h: Harness) -> None:
    cohort_id, (ilse,) = await enrolled(h, "Ilse")
    scheduler = h.state.live().scheduler
    await scheduler.push(cohort_id, "reflection", week=1)
    week1 = await reflection(h, ilse, 1)
    mark = h.api.mark(ilse)
    await h.api.press(ilse, week1, "2")
    await h.api.wait_for_message(ilse, lambda m: "Vraag 2 van" in (m.text or ""), since=mark)
    await scheduler.push(cohort_id, "reflection", week=2)  # closes week 1
    week2 = await reflection(h, ilse, 2)
    before = await db_state(h)
    for label in ("4", "5"):
        data = next(b["callback_data"] for b in week1.buttons() if b["text"] == label)
        assert CLOSED in await press(h, ilse, week1, data)
    assert changes(before, await db_state(h)) == {}
    async with h.db.transaction() as s:
        assert list(await s.scalars(select(Answer.rating))) == [2]  # week 1's answer kept
    # the open round still works
    assert "Opgeslagen" in await press(h, ilse, week2, week2.buttons()[0]["callback_data"])
    assert sorry_in(h, ilse) == []


GARBAGE = [
    "x",
    "a:",
    "a::",
    "a:AAAAAAAAAAAA:3",
    "a:AAAAAAAAAAAA:",
    "a:' OR '1'='1:3",
    "k:",
    "k:%%%%",
    "e::ok",
    "e:AAAAAAAAAAAA:zz",
    "e:AAAAAAAAAAAA:q",
    "v:extra",
    "al:",
    "al:abc:ack",
    "al:1:delete",
    "al:99999999999999:ack",
    "c:",
    "c:x:ABC",
    "c:y:",
    "c:y:bad code with spaces",
    "🙂🙂🙂",
    "\u202eevil",
    "\x00\x01\x02",
    "A" * 64,
    "a:" + "B" * 24 + ":3" + "9" * 35,
]


async def test_garbage_callback_data_is_answered_and_changes_nothing(h: Harness) -> None:
    cohort_id, (ilse,) = await enrolled(h, "Ilse")
    stranger = h.api.add_user("Onbekend")
    await h.state.live().scheduler.push(cohort_id, "reflection", week=1)
    question = await reflection(h, ilse, 1)
    stranger_message = await h.say(stranger, "/help")
    before = await db_state(h)
    marks = h.api.mark(ilse), h.api.mark(stranger)
    for i, data in enumerate(GARBAGE):
        user, message = (ilse, question) if i % 2 == 0 else (stranger, stranger_message)
        answer = await press(h, user, message, data)
        assert answer and SORRY not in answer, (data, answer)
    assert changes(before, await db_state(h)) == {}
    # only callback answers: no message to either chat (no question, no error)
    assert h.api.messages(ilse)[marks[0] :] == [] and h.api.messages(stranger)[marks[1] :] == []
    assert "Vraag 1 van" in (h.api.bot().find_message(ilse.id, question.message_id).text or "")


async def test_an_alert_button_pressed_by_a_student_or_stranger(h: Harness) -> None:
    w = await two_classes(h)
    before = await db_state(h)
    for user in (w.anna, w.stranger, w.olga, w.zara):
        message = await h.say(user, "/help")  # any message of the bot in their chat
        for action in ("ack", "talk", "mute"):
            answer = await press(h, user, message, f"al:{w.alert_id}:{action}")
            assert "geen mentor" in answer, (user.first_name, answer)
    # a mentor of the class pressing a forged id or action gets a polite answer too
    message = await h.say(w.marit, "/help")
    assert "geen mentor" in await press(h, w.marit, message, "al:99999:ack")
    assert "geen mentor" in await press(h, w.marit, message, f"al:{w.alert_id}:delete")
    assert changes(before, await db_state(h)) == {}
    assert sorry_in(h, w.anna, w.stranger, w.olga, w.zara, w.marit) == []


async def test_a_forged_consent_button_with_an_unknown_code(h: Harness) -> None:
    cohort_id = await h.cohort()
    used = await h.code(cohort_id)
    await h.join(h.api.add_user("Eerste"), used)
    stranger = h.api.add_user("Onbekend")
    message = await h.say(stranger, "/help")  # no buttons on it
    before = await db_state(h)
    for data, expected in (
        ("c:y:ONBEKEND123", "Deze code ken ik niet"),
        ("c:n:ONBEKEND123", "Deze code ken ik niet"),
        (f"c:y:{used}", "al gebruikt"),
    ):
        mark = h.api.mark(stranger)
        query = await h.api.press_button(stranger, message, data, check=False)
        await h.api.wait_for_callback_answer(query)
        reply = await h.api.wait_for_message(stranger, since=mark)
        assert expected in reply.text, (data, reply.text)
        assert sorry_in(h, stranger) == [], data
    assert changes(before, await db_state(h)) == {}


async def test_a_forged_stop_button_cannot_stop_another_student(h: Harness) -> None:
    cohort_id, (ilse, omar) = await enrolled(h, "Ilse", "Omar")
    async with h.db.transaction() as s:
        rows = await s.execute(select(Member.name, Member.id).where(Member.cohort_id == cohort_id))
        ids = {name: member_id for name, member_id in rows}
    message = await h.say(omar, "/help")
    before = await db_state(h)
    for data in (f"st:y:{ids['Ilse']}", f"st:n:{ids['Ilse']}", "st:y:999999", "st:y:0"):
        assert STALE in await press(h, omar, message, data), data
    assert changes(before, await db_state(h)) == {}
    assert (await h.say(ilse, "/help")).text.startswith(
        "Ik ben de bot van je mentorteam"
    )  # still in


async def test_old_buttons_of_a_student_who_stopped(h: Harness) -> None:
    cohort_id, (ilse,) = await enrolled(h, "Ilse")
    await h.state.live().scheduler.push(cohort_id, "reflection", week=1)
    question = await reflection(h, ilse, 1)
    confirm = await h.say(ilse, "/stop")
    mark = h.api.mark(ilse)
    await h.api.press(ilse, confirm, "Ja, stoppen")
    await h.api.wait_for_message(ilse, since=mark)
    before = await db_state(h)
    for button in question.buttons():
        assert STALE in await press(h, ilse, question, button["callback_data"])
    assert "Ik ken je nog niet" in (await h.say(ilse, "Situatie: toch nog een antwoord")).text
    assert changes(before, await db_state(h)) == {}
    assert sorry_in(h, ilse) == []


async def test_begrepen_under_a_closed_weeks_expectations(h: Harness) -> None:
    cohort_id, (ilse,) = await enrolled(h, "Ilse")
    scheduler = h.state.live().scheduler
    await scheduler.push(cohort_id, "expectations", week=1)
    week1 = await h.api.wait_for_message(ilse, lambda m: "Week 1" in (m.text or ""), timeout=20)
    await scheduler.push(cohort_id, "expectations", week=2)  # closes week 1's
    await h.api.wait_for_message(ilse, lambda m: "Week 2" in (m.text or ""), timeout=20)
    before = await db_state(h)
    answer = await press(h, ilse, week1, week1.button("Begrepen")["callback_data"])
    assert CLOSED in answer or STALE in answer, answer
    assert changes(before, await db_state(h)) == {}
