"""Both views in an alert, end to end: a student who rates a skill high while her werkbegeleider
twice says "nooit" gets a blind-spot alert to the mentor team, with both series side by side;
the werkbegeleider never sees the alert."""

from __future__ import annotations

from tests.factories import add_mentor
from tests.harness import Harness
from tests.observe.helpers import accept, class_with_students, is_request, link_of
from tgsandbox import SandboxUser, SentMessage

DONE = "Klaar, dank je wel"


def is_question(message: SentMessage) -> bool:
    return "Vraag " in (message.text or "") and " van " in (message.text or "")


async def rate_everything_high(h: Harness, student: SandboxUser, week: int) -> None:
    """The reflection of `week`: a 5 for every skill, the optional questions skipped."""
    message = await h.api.wait_for_message(
        student, lambda m: f"reflectie van week {week}" in (m.text or ""), timeout=20
    )
    while is_question(message):
        mark = h.api.mark(student)
        labels = [b["text"] for b in message.buttons()]
        await h.api.press(student, message, "5" if "5" in labels else "Overslaan")
        message = await h.api.wait_for_message(
            student, lambda m: is_question(m) or DONE in (m.text or ""), since=mark
        )
    assert DONE in (message.text or ""), message.text


async def observe(h: Harness, werkbegeleider: SandboxUser, taps: list[str]) -> None:
    """One observation round: `taps` for the skills in order, then Klaar."""
    request = await h.api.wait_for_message(werkbegeleider, is_request, timeout=20)
    for tap in [*taps, "Klaar"]:
        mark = h.api.mark(werkbegeleider)
        await h.api.press(werkbegeleider, request, tap)
        if tap == "Klaar":
            return
        request = await h.api.wait_for_message(werkbegeleider, is_request, since=mark)


async def test_a_blind_spot_reaches_the_team_with_both_views(h: Harness) -> None:
    cohort_id, [anna] = await class_with_students(h, "Anna")
    mentor = h.api.add_user("Mentor")
    async with h.db.transaction() as s:
        await add_mentor(s, cohort_id, "Mentor", mentor.id)
    ellen = h.api.add_user("Ellen")
    await accept(h, ellen, await link_of(h, anna))
    scheduler = h.state.live().scheduler

    for week in (1, 2):
        await scheduler.push(cohort_id, "reflection", week=week)
        await rate_everything_high(h, anna, week)
        await scheduler.push(cohort_id, "observation", week=week)
        await observe(h, ellen, ["Nooit", "Goed"])

    alert = await h.api.wait_for_message(
        mentor, lambda m: "blinde vlek" in (m.text or ""), timeout=20
    )
    text = alert.text or ""
    assert "Anna" in text and "klimaat" in text.lower()
    assert "Zelf: 5 · 5" in text and "Werkplek: nooit · nooit" in text, text
    assert [b["text"] for b in alert.buttons()][:2] == ["Gezien", "Bespreken"]
    # the workplace's view is shown to the team, never the other way round
    assert not any("blinde vlek" in (m.text or "") for m in h.api.messages(ellen))
    assert not any("blinde vlek" in (m.text or "") for m in h.api.messages(anna))
