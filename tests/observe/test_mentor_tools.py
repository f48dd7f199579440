"""The mentor team's tools show both views: /overzicht the observation response,
/export a `source` column, /grafiek a chart of both views per skill."""

from __future__ import annotations

import csv
import io

from tests.e2e.test_checkin import answer_until
from tests.harness import Harness
from tests.observe.helpers import accept, class_with_students, is_request, link_of
from tgsandbox import SandboxUser


async def both_views(h: Harness) -> tuple[SandboxUser, SandboxUser]:
    """Anna and Bram each have a werkbegeleider; Anna answered week 1 and only Ellen (Anna's)
    observed it: Oefenen on the first skill, Niet gezien on the second, then Klaar."""
    cohort_id, [anna, bram] = await class_with_students(h, "Anna", "Bram")
    docent, ellen, frits = (
        h.api.add_user("Docent"),
        h.api.add_user("Ellen"),
        h.api.add_user("Frits"),
    )
    await h.say(docent, f"/start {await h.code(cohort_id, 'mentor')}")
    await accept(h, ellen, await link_of(h, anna))
    await accept(h, frits, await link_of(h, bram))
    for name in ("Ellen", "Frits"):  # the team heard of both links before it asks anything
        await h.api.wait_for_message(
            docent, lambda m, name=name: f"{name} is nu werkbegeleider" in (m.text or ""), since=0
        )
    scheduler = h.state.live().scheduler
    await scheduler.push(cohort_id, "reflection", week=1)
    first = await h.api.wait_for_message(
        anna, lambda m: "reflectie van week 1" in (m.text or ""), timeout=20
    )
    await answer_until(h, anna, first, None)
    await scheduler.push(cohort_id, "observation", week=1)
    request = await h.api.wait_for_message(ellen, is_request, timeout=20)
    for label in ("Oefenen", "Niet gezien", "Klaar"):
        mark = h.api.mark(ellen)
        await h.api.press(ellen, request, label)
        request = await h.api.wait_for_message(ellen, since=mark)
    assert "Alles van week 1 is bewaard" in request.text
    return docent, ellen


async def test_overview_export_and_chart_show_both_views(h: Harness) -> None:
    docent, _ellen = await both_views(h)
    overview = await h.say(docent, "/overzicht")
    assert "Werkplek, week 1: 1 van 2 werkbegeleiders gaven een observatie (50%)." in overview.text

    export = await h.say(docent, "/export")
    assert export.document is not None
    rows = list(csv.DictReader(io.StringIO(export.document.data.decode("utf-8"))))
    workplace = [r for r in rows if r["bron"] == "werkbegeleider"]
    assert {r["bron"] for r in rows} == {"student", "werkbegeleider"}
    assert [(r["student"], r["vraag"], r["vaardigheid"], r["keuze"]) for r in workplace] == [
        ("Anna", "observatie", "klimaat", "oefenen"),
        ("Anna", "observatie", "samenwerken", "niet gezien"),
        ("Anna", "observatie_zin", "", ""),
    ]
    assert all(r["student"] == "Anna" for r in rows if r["bron"] == "student")
    assert f"({len(rows)} rijen)" in export.caption  # both views counted

    mark = h.api.mark(docent)
    await h.api.send_text(docent, "/grafiek")
    heatmap = await h.api.wait_for_message(docent, lambda m: m.kind == "photo", since=mark)
    both = await h.api.wait_for_message(
        docent, lambda m: m.kind == "photo" and m is not heatmap, since=mark
    )
    assert heatmap.kind == "photo" and both.kind == "photo"
    assert "blauw de eigen inschatting" in both.caption and "oranje de werkplek" in both.caption
