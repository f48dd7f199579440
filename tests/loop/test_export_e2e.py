"""/export in the mentor's language, with the workplace's side of an agreement (through the
real bot and the sandbox server, SQLite and PostgreSQL): the werkbegeleider's outcome and
line have columns of their own beside the student's; column names and the fixed words in
cells (source, level, kind, outcome) follow the mentor's /taal, in the same column order."""

from __future__ import annotations

import csv
import io

from tests.harness import Harness
from tests.loop.helpers import answer_reflection, reflection
from tests.loop.test_workplace_e2e import observe, send, week_question, with_werkbegeleiders
from tgsandbox import SandboxUser, SentMessage

LINE = "Anna leidt deze week twee keer het kringgesprek."


async def _export(h: Harness, mentor: SandboxUser) -> tuple[list[list[str]], list[list[str]]]:
    """The two files of one /export: the answers and the agreements, notes and compliments
    (their names checked: PW3A-antwoorden-… in Dutch, PW3A-answers-… in English)."""
    mark = h.api.mark(mentor)
    await h.api.send_text(mentor, "/export")

    def both() -> list[SentMessage] | None:
        sent = [m for m in h.api.messages(mentor)[mark:] if m.kind == "document"]
        return sent if len(sent) == 2 else None

    files = await h.api.wait_until(both)
    tables = []
    for sent in files:
        assert sent.document is not None
        tables.append(list(csv.reader(io.StringIO(sent.document.data.decode("utf-8")))))
    english = tables[0][0][2] == "question"
    names = [f.document.filename.split("-")[1] for f in files if f.document is not None]
    assert names == (["answers", "agreements"] if english else ["antwoorden", "leerafspraken"])
    return tables[0], tables[1]


async def test_export_has_the_workplace_outcome_in_the_mentors_language(h: Harness) -> None:
    c, ellen, _wim = await with_werkbegeleiders(h)
    await send(h, c, await week_question(h, c))  # shared with Ellen, follow-up in week 5
    await observe(h, c, ellen, 5, ["Goed", "Niet gezien", "Nog niet", "text:Ze wacht af."])
    first = await reflection(h, c, 5)
    choices = {"veilig pedagogisch klimaat": "4", "Werkt samen": "4", "Hoe ging het?": "Deels",
               "iets over vertellen": "text:Een keer gelukt."}  # fmt: skip
    await answer_reflection(h, c.anna, first, choices)

    answers, loop = await _export(h, c.marit)
    assert answers[0] == ["week", "student", "vraag", "vaardigheid", "score", "keuze", "tekst",
                          "beantwoord op", "bron"]  # fmt: skip
    workplace = [(r[2], r[3], r[5]) for r in answers[1:] if r[8] == "werkbegeleider"]
    assert ("observatie", "klimaat", "goed") in workplace
    assert ("observatie", "samenwerken", "niet gezien") in workplace
    assert loop[0] == [
        "student", "datum", "soort", "tekst", "opvolging in week", "uitkomst volgens student",
        "woorden van de student", "uitkomst volgens werkbegeleider",
        "woorden van de werkbegeleider", "door",
    ]  # fmt: skip
    [agreement] = [r for r in loop[1:] if r[2] == "leerafspraak"]
    assert agreement[3:] == [LINE, "5", "deels", "Een keer gelukt.", "nog niet", "Ze wacht af.",
                             "Marit Jansen"]  # fmt: skip

    await h.say(c.marit, "/taal en")
    answers_en, loop_en = await _export(h, c.marit)
    assert answers_en[0] == ["week", "student", "question", "skill", "rating", "choice", "text",
                             "answered at", "source"]  # fmt: skip
    workplace_en = [(r[2], r[3], r[5]) for r in answers_en[1:] if r[8] == "workplace supervisor"]
    assert ("observation", "klimaat", "good") in workplace_en
    assert ("observation", "samenwerken", "not seen") in workplace_en
    assert {r[8] for r in answers_en[1:]} == {"student", "workplace supervisor"}
    assert len(answers_en) == len(answers)  # the same rows, only the words differ
    assert loop_en[0] == [
        "student", "date", "kind", "text", "follow-up week", "outcome (student)",
        "student's words", "outcome (workplace supervisor)", "workplace supervisor's words", "by",
    ]  # fmt: skip
    [agreement_en] = [r for r in loop_en[1:] if r[2] == "learning agreement"]
    assert agreement_en[3:] == [LINE, "5", "partly", "Een keer gelukt.", "not yet",
                                "Ze wacht af.", "Marit Jansen"]  # fmt: skip
