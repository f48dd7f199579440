"""/trends through the real bot and the sandbox Bot API server, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.texts import t
from tests.factories import add_member, add_students, make_cohort
from tests.harness import Harness
from tests.observer.helpers import PLAN, add_round

NAMES = ["Anna de Vries", "Bram Bakker", "Cem Yilmaz", "Daan Smit", "Eva Janssen", "Fleur Mulder"]


async def class_with_three_closed_weeks(h: Harness) -> int:
    """A class of six whose last three reflection rounds (before today) are closed."""
    today = h.now()
    async with h.db.transaction() as s:
        cohort = await make_cohort(s, "PW3A", plan=PLAN)
        ids = await add_students(s, cohort, NAMES)
        for back, week in ((3, 1), (2, 2), (1, 3)):
            ratings = {m: {"klimaat": 2 + week % 3, "samenwerken": 3} for m in ids[: 4 + week]}
            await add_round(s, cohort, week, ratings, enrolled=ids,
                            when=today - timedelta(weeks=back))  # fmt: skip
    return cohort


async def test_observer_gets_the_trends_text_and_a_png_chart(h: Harness) -> None:
    cohort = await class_with_three_closed_weeks(h)
    regie = h.api.add_user("Rita", "Regie")
    welcome = await h.say(regie, f"/start {await h.code(cohort, 'observer')}")
    assert "regiegroep" in welcome.text

    mark = h.api.mark(regie)
    text = await h.say(regie, "/trends")
    assert text.kind == "text" and text.text is not None
    assert text.text.startswith("📊 Trends van je klassen")
    assert "PW3A: " in text.text and "94% in totaal (17 van 18)" in text.text
    assert "Veilig klimaat: wk" in text.text and "Samenwerken: wk" in text.text
    photo = await h.api.wait_for_message(regie, since=mark + 1, timeout=15)
    assert photo.kind == "photo" and photo.photo is not None
    assert photo.photo.data.startswith(b"\x89PNG\r\n\x1a\n") and len(photo.photo.data) > 5000
    assert photo.caption is not None and "minstens 5 studenten" in photo.caption
    for name in NAMES:
        assert name not in text.text and name not in photo.caption
        for part in name.split():
            if len(part) > 3:
                assert part not in text.text

    await h.say(regie, "/taal en")
    english = await h.say(regie, "/trends")
    assert english.text is not None and english.text.startswith("📊 Trends of your classes")


async def test_a_student_sending_trends_is_refused_and_sees_no_figures(h: Harness) -> None:
    cohort = await class_with_three_closed_weeks(h)
    anna = h.api.add_user("Anna", "de Vries")
    await h.join(anna, await h.personal_code(cohort, "Anna de Vries"))

    mark = h.api.mark(anna)
    reply = await h.say(anna, "/trends")
    assert reply.text == t("observer.only", "nl")
    await asyncio.sleep(1.0)  # nothing else follows: no text with figures, no chart
    after = h.api.messages(anna)[mark:]
    assert [m.kind for m in after] == ["text"]
    assert "%" not in (reply.text or "") and "wk " not in (reply.text or "")


async def test_a_mentor_and_a_stranger_are_refused_too(h: Harness) -> None:
    cohort = await class_with_three_closed_weeks(h)
    marit = h.api.add_user("Marit", "Jansen")
    async with h.db.transaction() as s:
        await add_member(s, cohort, "Marit Jansen", "mentor", user_id=marit.id)
    stranger = h.api.add_user("Iemand", "Anders", language_code="en")
    assert (await h.say(marit, "/trends")).text == t("observer.only", "nl")
    assert (await h.say(stranger, "/trends")).text == t("observer.only", "nl")
    await asyncio.sleep(0.5)
    assert all(m.kind == "text" for m in h.api.messages(marit) + h.api.messages(stranger))


async def test_in_a_group_an_observer_is_sent_to_the_private_chat(h: Harness) -> None:
    cohort = await class_with_three_closed_weeks(h)
    regie = h.api.add_user("Rita", "Regie")
    await h.say(regie, f"/start {await h.code(cohort, 'observer')}")
    group = h.api.add_group("Regiegroep Rijnmond")
    reply = await h.say(regie, "/trends", chat=group)
    assert reply.text == t("input.private_only", "nl")
    await asyncio.sleep(0.5)
    assert [m.kind for m in h.api.messages(group)] == ["text"]
