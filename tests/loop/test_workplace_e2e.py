"""The werkbegeleider's part of an agreement, through the real bot and the sandbox server on
SQLite and PostgreSQL: the copy (default yes for a workplace skill, a button to change it),
the follow-up question in the observation of the follow-up week only, both views in the
digest and the timeline, and what the workplace's answer does to the alert and the agenda.
An agreement that is not shared never reaches the werkbegeleider."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.loop.digest import meeting_messages
from storage.models import Agreement, Alert
from tests.harness import Harness
from tests.loop.helpers import (
    MONDAY_WEEK_3,
    Class,
    alert_message,
    answer_reflection,
    class_with_gap,
    reflection,
)
from tests.mentor.helpers import PLAN
from tests.observe.helpers import accept, is_request, link_of
from tests.observe.test_privacy import export_of
from tgsandbox import SandboxUser, SentMessage

# "klimaat" is a workplace skill here: a work process of the qualification file
PLAN_WORKPLACE = PLAN.replace(
    "    title: Zorgt voor een veilig pedagogisch klimaat\n",
    "    title: Zorgt voor een veilig pedagogisch klimaat\n"
    "    work_process: Zorgt voor een veilig pedagogisch klimaat\n",
)
LINE = "Anna leidt deze week twee keer het kringgesprek."
RATINGS_OK = {"veilig pedagogisch klimaat": "4", "Werkt samen": "4"}
SHARED = "Kopie naar werkbegeleider: ja ✓"
NOT_SHARED = "Kopie naar werkbegeleider: nee"


async def with_werkbegeleiders(h: Harness) -> tuple[Class, SandboxUser, SandboxUser]:
    """The class with Anna's gap; Ellen supervises Anna, Wim supervises Bram."""
    c = await class_with_gap(h, PLAN_WORKPLACE)
    ellen, wim = h.api.add_user("Ellen"), h.api.add_user("Wim")
    await accept(h, ellen, await link_of(h, c.anna))
    await accept(h, wim, await link_of(h, c.bram))
    await linked_notices(h, c, 2)
    return c, ellen, wim


async def linked_notices(h: Harness, c: Class, count: int) -> None:
    """Wait for the team's notices of the links, so that they come before the replies."""

    def arrived() -> bool:
        return len([m for m in h.api.messages(c.marit)
                    if "is nu werkbegeleider van" in (m.text or "")]) >= count  # fmt: skip

    await h.api.wait_until(arrived, timeout=20)


async def week_question(h: Harness, c: Class) -> SentMessage:
    """Afspraak under the alert and the line: the question with the week buttons."""
    alert = await alert_message(h, c)
    mark = h.api.mark(c.marit)
    await h.api.press(c.marit, alert, "Afspraak")
    ask = await h.api.wait_for_message(c.marit, since=mark)
    return await h.say(c.marit, LINE, reply_to=ask)


async def send(h: Harness, c: Class, weeks: SentMessage, label: str = "Week 5 ✓") -> str:
    query = await h.api.press(c.marit, weeks, label)
    return (await h.api.wait_for_callback_answer(query)).text


async def observe(h: Harness, c: Class, wb: SandboxUser, week: int, taps: list[str]) -> list[str]:
    """Open the observation of `week` and tap through Anna's requests (`taps` in order, then
    Klaar under the line, or a typed line when the tap starts with "text:"); their texts."""
    h.clock.set(MONDAY_WEEK_3 + timedelta(weeks=week - 3, days=3))  # before the reflection
    mark = h.api.mark(wb)
    await h.state.live().scheduler.push(c.cohort, "observation", week=week)
    message = await h.api.wait_for_message(wb, is_request, since=mark, timeout=20)
    asked = []
    for label in [*taps, "Klaar"]:
        asked.append(message.text or "")
        mark = h.api.mark(wb)
        if label.startswith("text:"):
            await h.api.send_text(wb, label[5:])
            # the thanks comes after the alerts were decided with the answers
            await h.api.wait_for_message(wb, lambda m: "Alles van week" in (m.text or ""),
                                         since=mark)  # fmt: skip
            break
        await h.api.press(wb, message, label)
        message = await h.api.wait_for_message(wb, since=mark)
    return asked


async def tap(h: Harness, user: SandboxUser, message: SentMessage, label: str) -> SentMessage:
    mark = h.api.mark(user)
    await h.api.press(user, message, label)
    return await h.api.wait_for_message(user, since=mark)


async def agreement(h: Harness) -> Agreement:
    async with h.db.transaction() as s:
        return (await s.scalars(select(Agreement))).one()


async def alert_row(h: Harness, alert_id: int) -> Alert:
    async with h.db.transaction() as s:
        row = await s.get(Alert, alert_id)
    assert row is not None
    return row


@pytest.mark.parametrize(
    ("workplace", "resolved", "on_agenda"),
    [
        ("Gelukt", True, False),
        ("Deels", True, False),
        ("Nog niet", False, True),  # the views disagree: the team talks about it first
    ],
)
async def test_shared_agreement_from_copy_to_outcome(
    h: Harness, workplace: str, resolved: bool, on_agenda: bool
) -> None:
    c, ellen, wim = await with_werkbegeleiders(h)
    weeks = await week_question(h, c)
    labels = [[b["text"] for b in row] for row in weeks.reply_markup["inline_keyboard"]]
    assert labels == [["Week 4", "Week 5 ✓", "Week 6"], [SHARED], ["Annuleren"]]
    mark_ellen = h.api.mark(ellen)
    answer = await send(h, c, weeks)
    assert "Een kopie ging naar de werkbegeleider: Ellen." in answer
    copy = await h.api.wait_for_message(ellen, since=mark_ellen)
    assert copy.text == f"🤝 De afspraak met Anna: „{LINE}”\nIn week 5 vragen we je hoe het ging."
    assert not [m for m in h.api.messages(wim) if "afspraak" in (m.text or "").lower()]

    # "niet gezien": no evidence for the gap rules, so only the agreement can resolve the alert
    # (the workplace's "goed" beside the student's 4 lets the rules resolve it themselves)
    unseen = ["Niet gezien", "Niet gezien"]
    week_4 = await observe(h, c, ellen, 4, unseen)  # not the follow-up week yet
    assert not any("afspraak" in q.lower() for q in week_4)
    week_5 = await observe(h, c, ellen, 5, [*unseen, workplace, "text:Ze durft het."])
    assert week_5[2] == f"De afspraak met Anna: „{LINE}”\nHoe ging het deze week?"
    assert "Nog iets kwijt over Anna" in week_5[3]
    assert not [m for m in h.api.messages(wim) if "afspraak" in (m.text or "").lower()]

    student = await reflection(h, c, 5)
    await answer_reflection(h, c.anna, student, {**RATINGS_OK, "Hoe ging het?": "Gelukt"})
    expected = {"Gelukt": "gelukt", "Deels": "deels", "Nog niet": "nog_niet"}[workplace]
    row = await agreement(h)
    assert (row.outcome, row.workplace_outcome) == ("gelukt", expected)
    assert row.workplace_note == "Ze durft het."
    alert = await alert_row(h, c.alert_id)
    assert (alert.resolution == "after_agreement") is resolved
    agenda = await h.say(c.marit, "/agenda")
    assert ("nog niet gelukt" in agenda.text) is on_agenda

    said = {"Gelukt": "gelukt", "Deels": "deels", "Nog niet": "nog niet"}[workplace]
    async with h.db.transaction() as s:
        digest = await meeting_messages(s, c.cohort, h.clock.now())
    assert f"• Anna de Vries — „{LINE}”: student: gelukt · werkplek: {said}" in "\n".join(
        m.text for m in digest
    )
    timeline = await h.say(c.marit, "/student Anna")
    assert f"↳ Volgens de werkplek: {said} — „Ze durft het.”" in timeline.text
    # the werkbegeleider saw the agreement and nothing else of Anna's
    assert all("Signaal" not in (m.text or "") and "Zelf:" not in (m.text or "")
               for m in h.api.messages(ellen))  # fmt: skip


async def test_workplace_not_yet_puts_it_on_the_agenda_before_the_student_answers(
    h: Harness,
) -> None:
    c, ellen, _wim = await with_werkbegeleiders(h)
    await send(h, c, await week_question(h, c))
    await observe(h, c, ellen, 5, ["Goed", "Goed", "Nog niet", "text:Ze wacht af."])
    row = await agreement(h)
    assert (row.outcome, row.workplace_outcome) == (None, "nog_niet")
    assert "nog niet gelukt" in (await h.say(c.marit, "/agenda")).text
    assert (await alert_row(h, c.alert_id)).resolution is None  # the workplace alone never resolves
    # the werkbegeleider's own answer is in their /mijngegevens
    theirs = await export_of(h, ellen)
    assert [(a["student"], a["agreement"], a["answer"], a["line"])
            for a in theirs["agreement_answers"]] == [
        ("Anna de Vries", LINE, "nog_niet", "Ze wacht af.")
    ]  # fmt: skip
    # and in the student's, beside her own (still empty) answer, as observations about her are
    [mine] = (await export_of(h, c.anna))["agreements_with_you"]
    assert (mine["outcome"], mine["workplace_outcome"], mine["workplace_words"]) == (
        None, "nog_niet", "Ze wacht af.",
    )  # fmt: skip


async def test_unshared_agreement_never_reaches_the_werkbegeleider(h: Harness) -> None:
    c, ellen, _wim = await with_werkbegeleiders(h)
    await alert_message(h, c)
    weeks = await h.say(c.marit, "/afspraak anna schrijft een verslag")  # no skill: no copy
    assert [b["text"] for b in weeks.buttons()] == [
        "Week 4", "Week 5 ✓", "Week 6", NOT_SHARED, "Annuleren"
    ]  # fmt: skip
    answer = await send(h, c, weeks)
    assert "kopie" not in answer.lower()
    asked = await observe(h, c, ellen, 5, ["Goed", "Goed"])
    assert len(asked) == 3 and not any("afspraak" in q.lower() for q in asked)
    assert not [m for m in h.api.messages(ellen) if "verslag" in (m.text or "")]
    assert (await agreement(h)).workplace_outcome is None


async def test_the_copy_button_switches_and_a_later_werkbegeleider_is_not_asked(
    h: Harness,
) -> None:
    c, ellen, wim = await with_werkbegeleiders(h)
    await alert_message(h, c)
    weeks = await h.say(c.marit, "/afspraak anna schrijft een verslag")
    query = await h.api.press(c.marit, weeks, NOT_SHARED)
    await h.api.wait_for_callback_answer(query)
    switched = await h.api.wait_until(
        lambda: (
            (m := h.api.bot().find_message(c.marit.id, weeks.message_id)) is not None
            and SHARED in [b["text"] for b in m.buttons()]
            and m
        )
    )
    mark = h.api.mark(ellen)
    await send(h, c, switched)
    assert "verslag" in (await h.api.wait_for_message(ellen, since=mark)).text
    assert (await agreement(h)).share_workplace

    # Wim starts supervising Anna after the agreement was sent: he never got the copy
    h.clock.set(MONDAY_WEEK_3 + timedelta(days=1))
    await accept(h, wim, await link_of(h, c.anna))
    mark_wim = h.api.mark(wim)
    h.clock.set(MONDAY_WEEK_3 + timedelta(weeks=2, days=4, hours=8))
    await h.state.live().scheduler.push(c.cohort, "observation", week=5)
    wim_first = await h.api.wait_for_message(
        wim, lambda m: is_request(m) and "Anna" in (m.text or ""), since=mark_wim, timeout=20
    )
    wim_second = await tap(h, wim, wim_first, "Goed")
    after_skills = await tap(h, wim, wim_second, "Goed")
    assert "Nog iets kwijt over Anna" in after_skills.text  # no agreement question for Wim
    assert not [m for m in h.api.messages(wim) if "verslag" in (m.text or "")]


async def test_now_observation_for_mentors(h: Harness) -> None:
    c, ellen, _wim = await with_werkbegeleiders(h)
    answer = await h.say(c.marit, "/nu observatie")
    assert answer.text == "De observatie van week 3 gaat nu naar de werkbegeleiders."
    request = await h.api.wait_for_message(ellen, is_request, timeout=20)
    assert "Week 3 · Anna de Vries" in request.text
    again = await h.say(c.marit, "/nu observation")
    assert again.text == "De ronde van week 3 was al verstuurd; er gaat niets dubbel."
