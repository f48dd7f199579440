"""Bad input around join codes: every case gets a clear, polite answer and changes nothing.

Codes that are unknown, used or expired are in tests/e2e/test_enrolment.py; here are the
cases around them (a race for one code, a code that expires while the consent question is
open, odd characters, a code in a group)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import update

from storage.models import ConsentRefusal, Invite, Member
from tests.harness import Harness
from tests.security.helpers import (
    changes,
    count,
    db_state,
    no_sorry,
)

# ----------------------------------------------------------------------------------- codes


async def test_two_students_race_for_one_code(h: Harness) -> None:
    cohort_id = await h.cohort()
    code = await h.personal_code(cohort_id, "Anna de Vries")
    anna, bram, cem = h.api.add_user("Anna"), h.api.add_user("Bram"), h.api.add_user("Cem")
    offers = [await h.say(user, f"/start {code}") for user in (anna, bram, cem)]
    assert all("Ga je akkoord?" in offer.text for offer in offers)  # offered to all three
    mark = h.api.mark(anna)
    await h.api.press(anna, offers[0], "Ik ga akkoord")
    assert "Dank je, Anna de Vries" in (await h.api.wait_for_message(anna, since=mark)).text
    before = await db_state(h)
    for user, offer, button in (
        (bram, offers[1], "Ik ga akkoord"),
        (cem, offers[2], "Nee, liever niet"),
    ):
        mark = h.api.mark(user)
        await h.api.press(user, offer, button)
        reply = await h.api.wait_for_message(user, since=mark)
        assert "al gebruikt" in reply.text, reply.text
    assert changes(before, await db_state(h)) == {}
    assert await count(h, Member, Member.telegram_user_id.in_([bram.id, cem.id])) == 0
    assert no_sorry(h, anna, bram, cem)


async def test_a_code_that_expires_while_the_consent_question_is_open(h: Harness) -> None:
    cohort_id = await h.cohort()
    code = await h.code(cohort_id)
    dirk = h.api.add_user("Dirk")
    offers = [await h.say(dirk, f"/start {code}") for _ in range(2)]
    async with h.db.transaction() as s:
        past = h.now() - timedelta(minutes=1)
        await s.execute(update(Invite).where(Invite.code == code).values(expires_at=past))
    before = await db_state(h)
    for offer, button in zip(offers, ("Ik ga akkoord", "Nee, liever niet"), strict=True):
        mark = h.api.mark(dirk)
        await h.api.press(dirk, offer, button)
        assert "verlopen" in (await h.api.wait_for_message(dirk, since=mark)).text
    assert changes(before, await db_state(h)) == {}
    assert await count(h, ConsentRefusal) == 0
    assert (await h.say(dirk, "/help")).text.startswith("Hallo!")  # settled
    assert no_sorry(h, dirk)


async def test_a_double_tap_on_the_consent_button(h: Harness) -> None:
    cohort_id = await h.cohort()
    code = await h.code(cohort_id)
    fleur = h.api.add_user("Fleur")
    offer = await h.say(fleur, f"/start {code}")
    data = offer.button("Ik ga akkoord")["callback_data"]
    mark = h.api.mark(fleur)
    queries = await asyncio.gather(*(h.api.press_button(fleur, offer, data) for _ in range(2)))
    for query in queries:
        await h.api.wait_for_callback_answer(query)
    await h.api.send_text(fleur, "/help")  # handled after both taps
    await h.api.wait_for_message(fleur, lambda m: "/verder" in (m.text or ""), since=mark)
    texts = [m.text for m in h.api.messages(fleur)[mark:]]
    assert sum("Dank je, Fleur" in t for t in texts) == 1
    assert not any("al gebruikt" in t for t in texts), texts
    assert await count(h, Member, Member.telegram_user_id == fleur.id) == 1
    assert no_sorry(h, fleur), texts


@pytest.mark.parametrize(
    "code",
    ["' OR '1'='1", "🙂", "../../etc/passwd", "%00", "ABC DEF", "<b>code</b>", "١٢٣٤٥", "c:y:x"],
)
async def test_codes_with_odd_characters_are_unknown(h: Harness, code: str) -> None:
    cohort_id = await h.cohort()
    await h.code(cohort_id)
    eva = h.api.add_user("Eva")
    before = await db_state(h)
    reply = await h.say(eva, f"/start {code}")
    assert reply.text.startswith("Deze code ken ik niet"), reply.text
    assert changes(before, await db_state(h)) == {} and no_sorry(h, eva)


async def test_a_code_sent_in_a_group_is_not_used(h: Harness) -> None:
    cohort_id = await h.cohort()
    code = await h.code(cohort_id)
    eva = h.api.add_user("Eva")
    group = h.api.add_group("Klas")
    await h.api.add_member_to_group(eva, group)
    before = await db_state(h)
    reply = await h.say(eva, f"/start {code}", chat=group)
    assert "privégesprek" in reply.text
    assert changes(before, await db_state(h)) == {}
    assert "Ga je akkoord?" in (await h.say(eva, f"/start {code}")).text  # still valid
