"""A werkbegeleider who left three observation rounds unanswered is a line in the mentor
team's digest, never an alert; one tap in those rounds is enough to stay off it."""

from __future__ import annotations

from datetime import timedelta

from tests.harness import Harness
from tests.observe.helpers import accept, class_with_students, is_request, link_of

LINE = "Werkbegeleider(s) zonder observatie in de laatste 3 weken"


async def test_three_unanswered_rounds_make_a_digest_line(h: Harness) -> None:
    cohort_id, [anna, bram] = await class_with_students(h, "Anna", "Bram")
    docent, ellen, frits = (
        h.api.add_user("Docent"),
        h.api.add_user("Ellen"),
        h.api.add_user("Frits"),
    )
    await h.say(docent, f"/start {await h.code(cohort_id, 'mentor')}")
    await accept(h, ellen, await link_of(h, anna))
    await accept(h, frits, await link_of(h, bram))
    h.clock.advance(timedelta(weeks=3))  # week 5 of the class: weeks 1-4 have begun
    scheduler = h.state.live().scheduler
    for week in (1, 2):
        await scheduler.push(cohort_id, "observation", week=week)
    await scheduler.push(cohort_id, "digest", week=3)  # two rounds: too early to say
    early = await h.api.wait_for_message(docent, lambda m: "— week 3" in (m.text or ""), timeout=20)
    assert LINE not in early.text

    await scheduler.push(cohort_id, "observation", week=3)
    request = await h.api.wait_for_message(
        frits, lambda m: is_request(m) and "Week 3" in m.text, timeout=20
    )
    mark = h.api.mark(frits)
    await h.api.press(frits, request, "Goed")  # one tap: Frits is not silent
    await h.api.wait_for_message(frits, is_request, since=mark)

    await scheduler.push(cohort_id, "digest", week=4)
    digest = await h.api.wait_for_message(
        docent, lambda m: "Weekoverzicht PW3A — week 4" in (m.text or ""), timeout=20
    )
    line = next(row for row in digest.text.splitlines() if LINE in row)
    assert "Ellen" in line and "Frits" not in line
    about_ellen = [m.text or "" for m in h.api.messages(docent) if "Ellen" in (m.text or "")]
    assert about_ellen == [  # the link notice and the digest line: never an alert
        "Ellen is nu werkbegeleider van Anna. Vanaf de volgende observatie zien jullie ook de "
        "blik van de werkplek (/student Anna).",
        digest.text,
    ]
