"""An alert resolved after a learning agreement is told to the mentor team at once, with a
Compliment button that reaches the student (through the real bot and the sandbox server, on
SQLite and PostgreSQL); an outcome that resolves nothing sends no such message."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.models import AuditEntry, Compliment
from tests.harness import Harness
from tests.loop.helpers import answer_reflection, class_with_gap, make_agreement, reflection
from tgsandbox import SandboxUser, SentMessage

LINE = "Anna leidt deze week twee keer het kringgesprek."
RATINGS_OK = {"veilig pedagogisch klimaat": "4", "Werkt samen": "4"}
RESOLVED = "✓ Opgelost na afspraak"
MANUAL = Path(__file__).resolve().parents[2] / "docs" / "handleiding-mentoren.md"


def resolved_messages(h: Harness, user: SandboxUser) -> list[SentMessage]:
    return [m for m in h.api.messages(user) if (m.text or "").startswith(RESOLVED)]


async def test_resolved_alert_message_has_a_compliment_button(h: Harness) -> None:
    c = await class_with_gap(h)
    await make_agreement(h, c, LINE, "Week 4")
    first = await reflection(h, c, 4)
    await answer_reflection(h, c.anna, first, {**RATINGS_OK, "Hoe ging het?": "Gelukt"})
    told = await h.api.wait_for_message(
        c.marit, lambda m: (m.text or "").startswith(RESOLVED), since=0, timeout=20
    )
    assert told.text == (
        "✓ Opgelost na afspraak: Anna de Vries — Zorgt voor een veilig pedagogisch klimaat.\n"
        f"De afspraak: „{LINE}”\n"
        "Volgens de student is het gelukt. Een compliment doet goed."
    )
    assert [b["text"] for b in told.buttons()] == ["Compliment: Anna de Vries"]
    assert told.text in MANUAL.read_text("utf-8")  # the manual's example is the real message

    mark = h.api.mark(c.marit)
    await h.api.press(c.marit, told, "Compliment: Anna de Vries")
    ask = await h.api.wait_for_message(c.marit, lambda m: "✍️" in (m.text or ""), since=mark)
    assert ask.text.startswith("✍️ Compliment voor Anna de Vries")
    done = await h.say(c.marit, "Knap dat je het kringgesprek leidde!", reply_to=ask)
    assert done.text == "✓ Compliment verstuurd aan Anna de Vries."
    got = await h.api.wait_for_message(c.anna, lambda m: "compliment" in (m.text or ""))
    assert got.text == "🌟 Een compliment van je mentorteam: „Knap dat je het kringgesprek leidde!”"
    async with h.db.transaction() as s:
        rows = [(r.member_id, r.alert_id) for r in await s.scalars(select(Compliment))]
        actions = [a.action for a in await s.scalars(select(AuditEntry))]
    assert rows == [(c.ids["anna"], c.alert_id)]  # the compliment names the resolved alert
    assert actions.count("compliment") == 1
    assert len(resolved_messages(h, c.marit)) == 1  # told once


async def test_no_resolved_message_when_the_outcome_resolves_nothing(h: Harness) -> None:
    c = await class_with_gap(h)
    await make_agreement(h, c, LINE, "Week 4")
    first = await reflection(h, c, 4)
    await answer_reflection(h, c.anna, first, {**RATINGS_OK, "Hoe ging het?": "Deels"})
    await h.say(c.marit, "/agenda")  # a round trip: anything queued before has gone out
    assert resolved_messages(h, c.marit) == []
    assert not [m for m in h.api.messages(c.anna) if "compliment" in (m.text or "")]
