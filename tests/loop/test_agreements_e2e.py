"""The whole life of a learning agreement through the real bot and the sandbox server, on
SQLite and PostgreSQL: made from an alert, told to the student, asked about in the follow-up
week (not before), and what each answer does to the alert and the agenda."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.gaps.alerts import evaluate_cohort
from storage.models import Agreement, Alert, AuditEntry
from storage.repos import MemberRepo
from tests.factories import add_student
from tests.harness import Harness
from tests.loop.helpers import (
    alert_message,
    answer_reflection,
    class_with_gap,
    make_agreement,
    reflection,
)

LINE = "Anna leidt deze week twee keer het kringgesprek."
RATINGS_OK = {"veilig pedagogisch klimaat": "4", "Werkt samen": "4"}
RATINGS_LOW = {"veilig pedagogisch klimaat": "2", "Werkt samen": "4"}


async def test_alert_has_the_afspraak_button(h: Harness) -> None:
    c = await class_with_gap(h)
    alert = await alert_message(h, c)
    assert [b["text"] for b in alert.buttons()] == [
        "Gezien", "Bespreken", "Afspraak", "Stil 2 weken"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("outcome", "ratings", "resolved", "on_agenda"),
    [
        ("Gelukt", RATINGS_OK, True, False),
        ("Gelukt", RATINGS_LOW, False, False),  # she says it worked; her rating does not
        ("Deels", RATINGS_OK, False, False),
        ("Nog niet", RATINGS_OK, False, True),
    ],
)
async def test_agreement_from_alert_to_outcome(
    h: Harness, outcome: str, ratings: dict[str, str], resolved: bool, on_agenda: bool
) -> None:
    c = await class_with_gap(h)
    told = await make_agreement(h, c, LINE, "Week 5 ✓")  # the default: two weeks on
    assert told.text == (
        f"🤝 Afspraak met je mentorteam: „{LINE}”\n"
        "We vragen in week 5 hoe het ging. Wil je erop reageren? Stuur /vraag met je reactie."
    )
    sent = await h.api.wait_until(
        lambda: next((m for m in h.api.messages(c.marit) if "verstuurd" in (m.text or "")), None)
    )  # the week buttons' message now says what happened
    assert sent.text.startswith("✓ Leerafspraak verstuurd aan Anna de Vries: „Anna leidt")
    assert sent.buttons() == []

    week_4 = await reflection(h, c, 4)  # not the follow-up week yet: nothing extra
    asked = await answer_reflection(h, c.anna, week_4, RATINGS_LOW)
    assert len(asked) == 4 and not any("Afspraak" in q for q in asked)

    week_5 = await reflection(h, c, 5)
    assert "Het zijn 6 vragen." in week_5.text
    choices = {**ratings, "Hoe ging het?": outcome, "iets over vertellen": "text:Best spannend."}
    asked = await answer_reflection(h, c.anna, week_5, choices)
    assert len(asked) == 6
    assert f"Afspraak met je mentorteam: „{LINE}”\nHoe ging het?" in asked[4]

    expected = {"Gelukt": "gelukt", "Deels": "deels", "Nog niet": "nog_niet"}[outcome]
    async with h.db.transaction() as s:
        agreement = (await s.scalars(select(Agreement))).one()
    assert (agreement.status, agreement.follow_up_week) == ("active", 5)
    assert (agreement.outcome, agreement.outcome_note) == (expected, "Best spannend.")
    # the alert's fate is decided when the reflection completes, before "Klaar" is sent
    row = await _alert(h, c.alert_id)
    if resolved:
        assert (row.status, row.resolution) == ("resolved", "after_agreement")
        async with h.db.transaction() as s:  # another evaluation does not raise it again
            assert await evaluate_cohort(s, c.cohort, h.clock.now()) == []
    else:
        assert row.status != "resolved" and row.resolution is None
    agenda = await h.say(c.marit, "/agenda")
    assert ("nog niet gelukt" in agenda.text) is on_agenda
    async with h.db.transaction() as s:
        actions = [a.action for a in await s.scalars(select(AuditEntry))]
    assert "agreement_made" in actions


async def _alert(h: Harness, alert_id: int) -> Alert:
    async with h.db.transaction() as s:
        row = await s.get(Alert, alert_id)
    assert row is not None
    return row


async def test_command_agreement_with_text_and_cancel(h: Harness) -> None:
    c = await class_with_gap(h)
    await alert_message(h, c)
    weeks = await h.say(c.marit, "/afspraak anna vraagt haar werkbegeleider om feedback")
    assert "„vraagt haar werkbegeleider om feedback”" in weeks.text
    assert [b["text"] for b in weeks.buttons()] == ["Week 4", "Week 5 ✓", "Week 6", "Annuleren"]
    query = await h.api.press(c.marit, weeks, "Annuleren")
    assert "geannuleerd" in (await h.api.wait_for_callback_answer(query)).text
    async with h.db.transaction() as s:
        statuses = [a.status for a in await s.scalars(select(Agreement))]
    assert statuses == ["cancelled"]
    assert not [m for m in h.api.messages(c.anna) if "Afspraak" in (m.text or "")]


async def test_bad_input_is_refused_politely_and_changes_nothing(h: Harness) -> None:
    c = await class_with_gap(h)
    await alert_message(h, c)
    usage = await h.say(c.marit, "/afspraak")
    assert usage.text.startswith("Gebruik: /afspraak <student>")
    unknown = await h.say(c.marit, "/afspraak Zoë moet oefenen")
    assert unknown.text == "Ik ken geen actieve student „Zoë” in deze klas."
    async with h.db.transaction() as s:
        anna_bos = await add_student(s, c.cohort, "Anna Bos", 7777)
    both = await h.say(c.marit, "/afspraak Anna oefent")
    assert (
        both.text == "Welke student bedoel je? Anna Bos, Anna de Vries. Schrijf meer van de naam."
    )
    full = await h.say(c.marit, "/compliment Anna de Vries")  # the whole name: no doubt
    assert full.text.startswith("✍️ Compliment voor Anna de Vries")
    async with h.db.transaction() as s:
        await MemberRepo(s).set_status(anna_bos, "stopped")  # only active students count
    too_long = await h.say(c.marit, "/afspraak Anna " + "x" * 400)
    assert too_long.text.startswith("Dat is te lang (400 tekens")
    ask = await h.say(c.marit, "/afspraak Anna")
    assert ask.text.startswith("✍️ Leerafspraak met Anna de Vries:")
    two_lines = await h.say(c.marit, "eerste regel\ntweede regel", reply_to=ask)
    assert "meer dan één regel" in two_lines.text
    async with h.db.transaction() as s:
        rows = list(await s.scalars(select(Agreement)))
    assert [(r.status, r.text) for r in rows] == [("draft", None)]  # still waiting for its line
    weeks = await h.say(c.marit, "Anna oefent het kringgesprek.", reply_to=ask)
    assert [b["text"] for b in weeks.buttons()][:3] == ["Week 4", "Week 5 ✓", "Week 6"]
    again = await h.say(c.marit, "Nog een keer.", reply_to=ask)  # the line is in already
    assert again.text == "Die vraag is al beantwoord of is niet van jou. Er is niets veranderd."
    assert not [m for m in h.api.messages(c.anna) if "Afspraak" in (m.text or "")]
