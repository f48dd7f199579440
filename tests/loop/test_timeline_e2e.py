"""An agreement that did not work yet, talked about and followed by a compliment: the
mentor's /student timeline shows it all; the student's /mijngegevens holds their own
agreement and compliment and nothing of another student (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

from tests.harness import Harness
from tests.loop.helpers import answer_reflection, class_with_gap, make_agreement, reflection
from tgsandbox import SandboxUser

LINE = "Anna vraagt haar werkbegeleider om feedback."


async def _own_data(h: Harness, user: SandboxUser) -> dict[str, Any]:
    await h.say(user, "/mijngegevens")
    sent = await h.api.wait_for_message(user, lambda m: m.kind == "document")
    assert sent.document is not None
    data: dict[str, Any] = json.loads(sent.document.data.decode("utf-8"))
    return data


async def test_timeline_and_own_data(h: Harness) -> None:
    c = await class_with_gap(h)
    await make_agreement(h, c, LINE, "Week 4")
    first = await reflection(h, c, 4)
    choices = {"klimaat": "2", "Werkt samen": "4", "Hoe ging het?": "Nog niet",
               "iets over vertellen": "text:Ik durfde het nog niet."}  # fmt: skip
    await answer_reflection(h, c.anna, first, choices)
    agenda = await h.say(c.marit, "/agenda")
    assert "leerafspraak „Anna vraagt haar werkbegeleider om feedback.”: nog niet gelukt" in (
        agenda.text
    )
    label = next(b["text"] for b in agenda.buttons())
    mark = h.api.mark(c.marit)
    await h.api.press(c.marit, agenda, label)
    ask = await h.api.wait_for_message(c.marit, since=mark)
    await h.say(c.marit, "Samen met Anna oefenen hoe ze het vraagt.", reply_to=ask)
    await h.say(c.marit, "/compliment Anna Goed dat je eerlijk bent!")

    history = await h.say(c.marit, "/student Anna")
    timeline = history.text[history.text.index("Tijdlijn:") :]
    events = [line[6:] for line in timeline.splitlines()[1:]]  # without the date
    assert events == [
        "⚠️ Signaal: Zorgt voor een veilig pedagogisch klimaat (week 2)",
        f"🤝 Leerafspraak: „{LINE}” (opvolging week 4)",
        "↳ Volgens de student: nog niet — „Ik durfde het nog niet.”",
        "📝 Besproken: „Samen met Anna oefenen hoe ze het vraagt.” (Marit Jansen)",
        "🌟 Compliment: „Goed dat je eerlijk bent!”",
    ]

    await h.say(c.marit, "/export")
    files = await h.api.wait_until(
        lambda: [m for m in h.api.messages(c.marit) if m.kind == "document"][1:] or None
    )
    assert files[0].document is not None
    assert files[0].document.filename.startswith("PW3A-leerafspraken-")
    table = files[0].document.data.decode("utf-8").splitlines()
    assert table[0].startswith("student,datum,soort,tekst,opvolging in week,")
    assert [line.split(",")[2] for line in table[1:]] == ["leerafspraak", "notitie", "compliment"]
    assert "nog niet,Ik durfde het nog niet.,,,Marit Jansen" in table[1]  # not shared: no workplace

    mine = await _own_data(h, c.anna)
    [agreement] = mine["agreements_with_you"]
    assert agreement["made_at"] and agreement == {
        "text": LINE, "made_by": "Marit Jansen", "made_at": agreement["made_at"],
        "follow_up_week": 4, "outcome": "nog_niet", "your_words": "Ik durfde het nog niet.",
        "workplace_outcome": None, "workplace_words": None,  # not shared with the workplace
    }  # fmt: skip
    assert [x["text"] for x in mine["compliments_to_you"]] == ["Goed dat je eerlijk bent!"]
    assert len(mine["meeting_notes_about_you"]) == 1
    theirs = await _own_data(h, c.bram)
    assert theirs["agreements_with_you"] == theirs["compliments_to_you"] == []
    assert theirs["meeting_notes_about_you"] == []
