"""The per-user flood limit through the real bot: a user who floods is told once, politely,
nothing past the limit runs or is stored, and everyone else is still answered."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from bot.runtime.flood import BURST, PER_SECOND, FloodLimiter
from storage.models import StudentQuestion
from tests.harness import Harness
from tests.security.helpers import SORRY, changes, db_state
from tgsandbox import SandboxUser

SLOW = "Rustig aan: je stuurt veel berichten achter elkaar."
SLOW_EN = "Easy: you are sending many messages in a row."
SENT = "Je vraag is naar je mentorteam gestuurd."


def texts_since(h: Harness, user: SandboxUser, mark: int) -> list[str]:
    return [m.text or "" for m in h.api.messages(user)[mark:]]


def at_most(started: float) -> float:
    """How many updates the bucket can let through since `started`: the burst and what
    refilled meanwhile (the bot is slower on a loaded machine, so more refills)."""
    return BURST + (time.monotonic() - started) * PER_SECOND + 1


async def questions(h: Harness) -> int:
    async with h.db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(StudentQuestion)) or 0)


async def test_a_flood_of_50_questions_is_cut_off_politely_and_others_are_answered(
    h: Harness,
) -> None:
    cohort_id = await h.cohort()
    spammer, other = h.api.add_user("Snelle"), h.api.add_user("Rustige")
    await h.join(spammer, await h.code(cohort_id))
    mark, started = h.api.mark(spammer), time.monotonic()
    for i in range(50):
        await h.api.send_text(spammer, f"/vraag Mag ik iets vragen? ({i})")
    # the other user's /help comes after the flood and is answered as usual
    help_reply = await h.say(other, "/help")
    assert help_reply.text.startswith("Hallo! Ik ben de bot van een mentorteam")
    await h.api.wait_until(lambda: any(SLOW in t for t in texts_since(h, spammer, mark)))
    replies = texts_since(h, spammer, mark)
    sent = [t for t in replies if t.startswith(SENT)]
    assert sum(SLOW in t for t in replies) == 1  # told once, not 35 times
    assert len(replies) == len(sent) + 1 and not any(SORRY in t for t in replies)
    # the burst (less /start and the consent tap just before), and what refilled meanwhile
    assert BURST - 2 <= len(sent) <= at_most(started) < 50
    assert await questions(h) == len(sent)  # nothing past the limit was stored

    # still flooding within the minute: no second notice; only what refilled meanwhile
    # (one token a second) gets through, and only that is stored
    again = h.api.mark(spammer)
    for i in range(10):
        await h.api.send_text(spammer, f"/vraag Nog eentje ({i})")
    assert (await h.say(other, "/help")).text.startswith("Hallo!")
    later = texts_since(h, spammer, again)
    assert all(t.startswith(SENT) for t in later)
    assert len(sent) + len(later) <= at_most(started)
    assert await questions(h) == len(sent) + len(later)


async def test_button_presses_over_the_limit_are_answered_with_the_text(h: Harness) -> None:
    cohort_id = await h.cohort()
    tapper = h.api.add_user("Tapper")
    await h.join(tapper, await h.code(cohort_id))
    assert "English" in (await h.say(tapper, "/taal en")).text
    message = await h.say(tapper, "/help")
    mark, before = h.api.mark(tapper), await db_state(h)
    started = time.monotonic()
    queries = [
        await h.api.press_button(tapper, message, "a:AAAAAAAAAAAA:3", check=False)
        for _ in range(BURST + 10)
    ]
    answers = [(await h.api.wait_for_callback_answer(q)).text or "" for q in queries]
    assert all(answers), "every press is answered, so no button keeps spinning"
    stale = [a for a in answers if "no longer works" in a]
    slowed = [a for a in answers if SLOW_EN in a]  # in the user's language
    assert len(stale) + len(slowed) == len(answers)
    # the burst less the 4 updates just before (join, /taal, /help), plus refill
    assert BURST - 4 <= len(stale) <= at_most(started) and slowed
    assert answers[: BURST - 4] == stale[: BURST - 4]  # the burst went through first
    assert texts_since(h, tapper, mark) == []  # a callback answer, not a chat message
    assert changes(before, await db_state(h)) == {}


async def test_a_flood_in_a_group_is_cut_off_without_a_warning_there(h: Harness) -> None:
    cohort_id = await h.cohort()
    student, docent = h.api.add_user("Luid"), h.api.add_user("Docent")
    await h.join(student, await h.code(cohort_id))
    await h.say(docent, f"/start {await h.code(cohort_id, 'mentor')}")
    group = h.api.add_group("Klas")
    for user in (student, docent):
        await h.api.add_member_to_group(user, group)
    mark, started = h.api.mark(group), time.monotonic()
    for i in range(40):
        await h.api.send_text(student, f"hoi allemaal {i}", chat=group)
    await h.api.send_text(docent, "/help", chat=group)  # the mentor is still answered
    help_reply = await h.api.wait_for_message(
        group, lambda m: "Je zit in het mentorteam van PW3A" in (m.text or ""), since=mark
    )
    await h.settled()  # the student's 40 messages are handled too (one at a time, in order)
    replies = [m.text or "" for m in h.api.messages(group)[mark:] if m is not help_reply]
    assert all("privégesprek" in t for t in replies)  # no warning in the group
    assert BURST - 2 <= len(replies) <= at_most(started) < 40  # not 40 "private chat" replies


async def test_the_notice_is_in_the_users_language(h: Harness) -> None:
    cohort_id = await h.cohort()
    sam = h.api.add_user("Sam")
    await h.join(sam, await h.code(cohort_id))
    assert "English" in (await h.say(sam, "/taal en")).text
    mark = h.api.mark(sam)
    for i in range(30):
        await h.api.send_text(sam, f"hello {i}")
    await h.api.wait_until(lambda: any(SLOW_EN in t for t in texts_since(h, sam, mark)))
    replies = texts_since(h, sam, mark)
    assert sum(SLOW_EN in t for t in replies) == 1 and not any(SLOW in t for t in replies)
    assert all(t.startswith(("There is no open question", SLOW_EN)) for t in replies)


async def test_an_update_over_the_limit_stays_stopped_when_its_notice_fails(h: Harness) -> None:
    cohort_id = await h.cohort()
    ilse, other = h.api.add_user("Ilse"), h.api.add_user("Rustige")
    await h.join(ilse, await h.code(cohort_id))
    [guard] = [handler.callback for handler in h.app.handlers[-2]]
    guard.limiter = FloodLimiter(burst=1, per_second=0.001)  # one update, then refused
    assert (await h.say(ilse, "/vraag Eén")).text.startswith(SENT)
    mark = h.api.mark(ilse)
    h.api.faults.fail_next("sendMessage", 403, chat_id=ilse.id)  # she blocked the bot
    await h.api.send_text(ilse, "/vraag Twee")  # refused, and the notice fails
    await h.api.send_text(ilse, "/vraag Drie")  # refused quietly
    assert (await h.say(other, "/help")).text.startswith("Hallo!")  # both were handled
    assert texts_since(h, ilse, mark) == []  # no "Sorry", no "naar je mentorteam gestuurd"
    assert await questions(h) == 1
