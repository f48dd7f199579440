"""The team's own expectations (/verwachting) in each student's language, through the real
bot and the sandbox server on SQLite and PostgreSQL: a text without a prefix is in the
mentor's language, `en:` / `nl:` gives the other version; a student whose language has no
version gets the team's text as written, and the mentor is told how many read it that way."""

from __future__ import annotations

import re
from datetime import timedelta

from storage.repos import CohortRepo
from tests.harness import Harness
from tgsandbox import SandboxUser, SentMessage

DUTCH = "Oefen deze week een kringgesprek met de peuters."
ENGLISH = "Practise a circle time with the toddlers this week."


async def _class(h: Harness) -> tuple[int, SandboxUser, SandboxUser, SandboxUser]:
    """Marit (mentor, Dutch), Anna (Dutch) and Bram (English)."""
    cohort_id = await h.cohort()
    marit, anna, bram = (h.api.add_user(n) for n in ("Marit", "Anna", "Bram"))
    await h.say(marit, f"/start {await h.code(cohort_id, 'mentor')}")
    for student in (anna, bram):
        await h.join(student, await h.code(cohort_id))
    await h.say(bram, "/taal en")
    return cohort_id, marit, anna, bram


async def _expectations(h: Harness, cohort_id: int, week: int, *users: SandboxUser) -> list[str]:
    h.clock.set(h.clock.now() + timedelta(days=7))  # "next week" has begun
    marks = {u.id: h.api.mark(u) for u in users}
    await h.state.live().scheduler.push(cohort_id, "expectations", week=week)
    got: list[SentMessage] = [
        await h.api.wait_for_message(u, lambda m: bool(m.buttons()), since=marks[u.id])
        for u in users
    ]
    return [m.text or "" for m in got]


def _week(reply: SentMessage) -> int:
    found = re.search(r"week (\d+)", reply.text or "")
    assert found is not None, reply.text
    return int(found.group(1))


async def test_both_versions_reach_each_student_in_their_language(h: Harness) -> None:
    cohort_id, marit, anna, bram = await _class(h)
    dutch = await h.say(marit, f"/verwachting {DUTCH}")
    week = _week(dutch)
    assert dutch.text == (
        f"De verwachtingen voor week {week} van PW3A zijn opgeslagen (Nederlands). Ze gaan mee "
        "met de ronde van die week.\nStudenten die Engels lezen (1) krijgen deze tekst zoals hij "
        "er staat. Een Engelse versie? Stuur /verwachting en: met de Engelse tekst."
    )
    english = await h.say(marit, f"/verwachting EN: {ENGLISH}")
    assert english.text == (
        f"De verwachtingen voor week {week} van PW3A zijn opgeslagen (Engels). Ze gaan mee "
        "met de ronde van die week."
    )  # both versions there: nobody reads the other language's text any more
    async with h.db.transaction() as s:
        cohort = await CohortRepo(s).get(cohort_id)
    assert cohort is not None
    assert cohort.gap_settings["expectations_override"] == {str(week): {"nl": DUTCH, "en": ENGLISH}}

    to_anna, to_bram = await _expectations(h, cohort_id, week, anna, bram)
    assert DUTCH in to_anna and ENGLISH not in to_anna
    assert ENGLISH in to_bram and DUTCH not in to_bram


async def test_one_version_goes_to_everyone_as_written(h: Harness) -> None:
    cohort_id, marit, anna, bram = await _class(h)
    await h.say(marit, "/taal en")
    saved = await h.say(marit, f"/verwachting {ENGLISH}")  # the mentor's language: English
    assert saved.text.endswith(
        "(English). They go out with that week's round.\nStudents who read Dutch (1) get this "
        "text as it is. A Dutch version? Send /verwachting nl: with the Dutch text."
    )
    usage = await h.say(marit, "/verwachting nl:")  # only the prefix: nothing to store
    assert usage.text.startswith("Usage: /verwachting followed by")
    to_anna, to_bram = await _expectations(h, cohort_id, _week(saved), anna, bram)
    assert ENGLISH in to_anna and ENGLISH in to_bram


async def test_a_text_starting_with_the_word_en_stays_dutch(h: Harness) -> None:
    cohort_id, marit, _anna, _bram = await _class(h)
    text = "En vergeet je stageschrift niet."
    saved = await h.say(marit, f"/verwachting {text}")
    async with h.db.transaction() as s:
        cohort = await CohortRepo(s).get(cohort_id)
    assert cohort is not None
    assert cohort.gap_settings["expectations_override"] == {str(_week(saved)): {"nl": text}}
