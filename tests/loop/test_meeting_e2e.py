"""The class meeting and compliments through the real bot (SQLite and PostgreSQL): /agenda
lists alerts marked Bespreken, agreements due and open questions; Besproken with a note
ticks an item off; the Monday digest carries the agenda and the students who improve, with
a Compliment button; /compliment reaches the student."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import AuditEntry, Compliment, LoopNote
from tests.harness import Harness
from tests.loop.helpers import MONDAY_WEEK_3, alert_message, class_with_gap, make_agreement
from tests.mentor.helpers import add_week


async def test_agenda_and_besproken_with_a_note(h: Harness) -> None:
    c = await class_with_gap(h)
    alert = await alert_message(h, c)
    query = await h.api.press(c.marit, alert, "Bespreken")
    await h.api.wait_for_callback_answer(query)
    await make_agreement(h, c, "Anna vraagt om feedback.", "Week 4")
    await h.say(c.anna, "/vraag Mag ik een dag ruilen?")
    await h.api.wait_for_message(c.marit, lambda m: "Mag ik een dag ruilen?" in (m.text or ""))
    h.clock.set(MONDAY_WEEK_3 + timedelta(weeks=1))  # week 4: the agreement is due

    agenda = await h.say(c.marit, "/agenda")
    assert agenda.text.startswith("📋 Klassenbespreking PW3A")
    assert "1. Anna de Vries — Zorgt voor een veilig pedagogisch klimaat (signaal #" in agenda.text
    assert "2. Anna de Vries — leerafspraak „Anna vraagt om feedback.” (opvolging week 4)" in (
        agenda.text
    )
    assert "3. Anna de Vries — vraag #1: „Mag ik een dag ruilen?”" in agenda.text
    assert [b["text"] for b in agenda.buttons()] == [
        "✓ 1 Besproken", "✓ 2 Besproken", "✓ 3 Besproken"
    ]  # fmt: skip

    mark = h.api.mark(c.marit)
    await h.api.press(c.marit, agenda, "✓ 1 Besproken")
    ask = await h.api.wait_for_message(c.marit, since=mark)
    assert ask.text.startswith("✍️ Besproken: Anna de Vries — Zorgt voor")
    noted = await h.say(c.marit, "Praktijkopleider belt de BPV-plek.", reply_to=ask)
    assert noted.text.startswith("✓ Genoteerd.")
    query = await h.api.press(c.marit, agenda, "✓ 1 Besproken")  # the old button: it is done
    gone = await h.api.wait_for_callback_answer(query)
    assert gone.text == "Dit punt staat niet meer op de agenda."

    after = await h.say(c.marit, "/agenda")
    assert "signaal #" not in after.text and "1. Anna de Vries — leerafspraak" in after.text
    async with h.db.transaction() as s:
        notes = [(n.subject, n.text) for n in await s.scalars(select(LoopNote))]
        actions = [a.action for a in await s.scalars(select(AuditEntry))]
    assert notes == [(f"alert:{c.alert_id}", "Praktijkopleider belt de BPV-plek.")]
    assert "meeting_note" in actions


async def test_compliment_command_reaches_the_student(h: Harness) -> None:
    c = await class_with_gap(h)
    await alert_message(h, c)
    sent = await h.say(c.marit, "/compliment bram Wat fijn dat je elke week alles invult!")
    assert sent.text == "✓ Compliment verstuurd aan Bram Bakker."
    got = await h.api.wait_for_message(c.bram, lambda m: "compliment" in (m.text or ""))
    assert (
        got.text == "🌟 Een compliment van je mentorteam: „Wat fijn dat je elke week alles invult!”"
    )
    assert not [m for m in h.api.messages(c.anna) if "compliment" in (m.text or "")]
    async with h.db.transaction() as s:
        actions = [a.action for a in await s.scalars(select(AuditEntry))]
    assert actions.count("compliment") == 1


async def test_digest_carries_agenda_and_improvements_with_compliment(h: Harness) -> None:
    c = await class_with_gap(h)
    await alert_message(h, c)
    async with h.db.transaction() as s:  # week 3: Anna rates "klimaat" 4 now
        both = {"klimaat": 4, "samenwerken": 4}
        await add_week(s, c.cohort, 3, {c.ids["anna"]: both, c.ids["bram"]: both})
    h.clock.set(MONDAY_WEEK_3 + timedelta(weeks=1))
    mark = h.api.mark(c.marit)
    await h.state.live().scheduler.push(c.cohort, "digest", week=4)
    progress = await h.api.wait_for_message(
        c.marit, lambda m: "Vooruitgang" in (m.text or ""), since=mark
    )
    assert (
        "🌱 Anna de Vries — Zorgt voor een veilig pedagogisch klimaat: zelfbeoordeling van 1 naar 4"
        in (progress.text)
    )
    assert "Compliment: Anna de Vries" in [b["text"] for b in progress.buttons()]
    meeting = [m for m in h.api.messages(c.marit)[mark:] if "Klassenbespreking" in (m.text or "")]
    assert len(meeting) == 1

    mark = h.api.mark(c.marit)
    await h.api.press(c.marit, progress, "Compliment: Anna de Vries")
    ask = await h.api.wait_for_message(c.marit, lambda m: "✍️" in (m.text or ""), since=mark)
    assert ask.text.startswith("✍️ Compliment voor Anna de Vries")
    done = await h.say(c.marit, "Knap hoe je dit hebt aangepakt!", reply_to=ask)
    assert done.text == "✓ Compliment verstuurd aan Anna de Vries."
    got = await h.api.wait_for_message(c.anna, lambda m: "compliment" in (m.text or ""))
    assert "„Knap hoe je dit hebt aangepakt!”" in got.text
    async with h.db.transaction() as s:
        rows = list(await s.scalars(select(Compliment)))
    assert [(r.member_id, r.text) for r in rows] == [
        (c.ids["anna"], "Knap hoe je dit hebt aangepakt!")
    ]
