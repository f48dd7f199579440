"""Privacy around werkbegeleiders: the student's export holds the
observations about them, the werkbegeleider has /mijngegevens and /stop, and the retention
period removes the new tables' rows."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from bot.people.retention import purge_in
from storage.models import FieldSignal, Member, Observation, Supervision
from tests.harness import Harness
from tests.observe.helpers import accept, class_with_students, is_request, link_of
from tgsandbox import SandboxUser


async def count(h: Harness, model: type, *where: object) -> int:
    async with h.db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def observed_week_1(h: Harness) -> tuple[int, SandboxUser, SandboxUser, SandboxUser]:
    """Anna's werkbegeleider Ellen tapped week 1 (Oefenen, Niet gezien, a line)."""
    cohort_id, [anna] = await class_with_students(h, "Anna")
    docent, ellen = h.api.add_user("Docent"), h.api.add_user("Ellen")
    await h.say(docent, f"/start {await h.code(cohort_id, 'mentor')}")
    await accept(h, ellen, await link_of(h, anna))
    await h.state.live().scheduler.push(cohort_id, "observation", week=1)
    request = await h.api.wait_for_message(ellen, is_request, timeout=20)
    for label in ("Oefenen", "Niet gezien"):
        mark = h.api.mark(ellen)
        await h.api.press(ellen, request, label)
        request = await h.api.wait_for_message(ellen, is_request, since=mark)
    mark = h.api.mark(ellen)
    await h.api.send_text(ellen, "Goed bezig met de baby's.")
    await h.api.wait_for_message(ellen, lambda m: "bewaard" in (m.text or ""), since=mark)
    await h.say(ellen, "/signaal De meldcode is onbekend bij nieuwe collega's")
    return cohort_id, anna, ellen, docent


async def export_of(h: Harness, user: SandboxUser) -> dict:
    mark = h.api.mark(user)
    await h.api.send_text(user, "/mijngegevens")
    sent = await h.api.wait_for_message(user, lambda m: m.kind == "document", since=mark)
    assert sent.document is not None
    return json.loads(sent.document.data.decode("utf-8"))


async def test_both_exports_hold_the_observations(h: Harness) -> None:
    _cohort_id, anna, ellen, _docent = await observed_week_1(h)
    mine = await export_of(h, anna)
    assert mine["workplace_observations_about_you"] == [
        {"week": 1, "skill": "klimaat", "observation": "oefenen", "by": "Ellen",
         "at": mine["workplace_observations_about_you"][0]["at"]},
        {"week": 1, "skill": "samenwerken", "observation": "niet gezien", "by": "Ellen",
         "at": mine["workplace_observations_about_you"][1]["at"]},
        {"week": 1, "line": "Goed bezig met de baby's.", "by": "Ellen",
         "at": mine["workplace_observations_about_you"][2]["at"]},
    ]  # fmt: skip
    theirs = await export_of(h, ellen)
    assert theirs["membership"]["role"] == "werkbegeleider"
    assert theirs["membership"]["telegram_user_id"] == ellen.id
    assert [s["student"] for s in theirs["students"]] == ["Anna"]
    assert [o.get("observation") or o.get("line") for o in theirs["observations"]] == [
        "oefenen", "niet gezien", "Goed bezig met de baby's."
    ]  # fmt: skip
    assert theirs["signals"][0]["text"] == "De meldcode is onbekend bij nieuwe collega's"
    assert "answers" not in theirs  # nothing of the student's own


async def test_werkbegeleider_stops_the_team_is_told_and_no_more_requests(h: Harness) -> None:
    cohort_id, _anna, ellen, docent = await observed_week_1(h)
    question = await h.say(ellen, "/stop")
    assert "stoppen als werkbegeleider" in question.text
    mark = h.api.mark(ellen)
    await h.api.press(ellen, question, question.buttons()[0]["text"])
    done = await h.api.wait_for_message(ellen, lambda m: "gestopt" in (m.text or ""), since=mark)
    assert "Telegram-nummer is verwijderd" in done.text
    told = await h.api.wait_for_message(
        docent, lambda m: "Werkbegeleider Ellen is gestopt" in (m.text or ""), timeout=20
    )
    assert "Anna" in told.text
    assert await count(h, Member, Member.telegram_user_id == ellen.id) == 0
    assert await count(h, Supervision, Supervision.ended_at.is_(None)) == 0
    assert await count(h, Observation) == 3  # kept for the team until the retention period
    pushed = await h.state.live().scheduler.push(cohort_id, "observation", week=2)
    assert pushed.opened.queued == 0


async def test_retention_removes_old_observations_signals_and_ended_links(h: Harness) -> None:
    await observed_week_1(h)
    async with h.db.transaction() as s:
        kept = await purge_in(s, h.now() - timedelta(days=1))
    assert kept["observations"] == 0 and kept["field_signals"] == 0
    assert await count(h, Observation) == 3
    async with h.db.transaction() as s:
        gone = await purge_in(s, h.now() + timedelta(days=1))
    assert gone["observations"] == 3 and gone["field_signals"] == 1
    assert await count(h, Observation) == 0 and await count(h, FieldSignal) == 0
    assert await count(h, Supervision) == 1  # a current link is no old data
