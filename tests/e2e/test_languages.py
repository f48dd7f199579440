"""Both languages all the way: a student and a mentor who choose English go through a week and
meet no Dutch; a student and a mentor who keep Dutch meet no English.

Through the real Application and the sandbox Bot API server: the expectations, the plan's skill
names, the rating question, the STARR tip, the answer options, a question to the team and its
answer, the summary, /status, /overzicht, /student and the team's digest (alerts are another
issue's part; this week raises none: the student rates themselves well)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.harness import Harness
from tgsandbox import SandboxUser, SentMessage

# Words that only one of the two languages uses; a text in the other language has none of them.
DUTCH_ONLY = {
    "je", "jij", "jouw", "het", "een", "van", "deze", "niet", "wat", "voor", "met", "ook", "naar",
    "dat", "bij", "wordt", "hebt", "heeft", "ik", "geen", "nog", "ging", "dit", "zijn", "wil",
}  # fmt: skip
ENGLISH_ONLY = {
    "the", "you", "your", "this", "what", "with", "and", "are", "to", "for", "not", "have",
    "has", "will", "my", "week's", "answer", "question", "questions",
}  # fmt: skip
NOT_PROSE = re.compile(r"/\w+|<[^>]*>|„[^”]*”|“[^”]*”")  # commands, <placeholders>, quotes


@dataclass(frozen=True)
class Words:
    """What a user in this language types and taps."""

    lang: str
    understood: str
    first_option: str
    skip: str
    question: str
    story: str
    reply: str
    foreign: set[str]


ENGLISH = Words(
    "en", "Understood", "Fully done", "Skip", "Can I swap my placement day next week?",
    "I helped at lunch. A child spilled milk and I stayed calm. Next time I ask for help sooner.",
    "Yes, agree it with your supervisor first.", DUTCH_ONLY,
)  # fmt: skip
DUTCH = Words(
    "nl", "Begrepen", "Helemaal gelukt", "Overslaan", "Mag ik volgende week van stagedag ruilen?",
    "Ik hielp bij het eten. Een kind morste melk. Ik bleef rustig en vroeg hulp.",
    "Ja, overleg het eerst met je werkbegeleider.", ENGLISH_ONLY,
)  # fmt: skip


def foreign_words(message: SentMessage, foreign: set[str]) -> set[str]:
    text = NOT_PROSE.sub(" ", (message.text or "") + " " + (message.caption or ""))
    return {w for w in re.findall(r"[a-z’']+", text.lower()) if w in foreign}


async def answer_everything(h: Harness, user: SandboxUser, question: SentMessage, w: Words) -> None:
    """Answer from `question` to the end: a 4 for ratings, the first option, a STARR story, and
    skip the optional help question."""
    for _ in range(12):
        buttons = [b["text"] for b in question.buttons()]
        mark = h.api.mark(user)
        if "4" in buttons:
            await h.api.press(user, question, "4")
        elif w.skip in buttons:
            await h.api.press(user, question, w.skip)
        elif buttons:
            await h.api.press(user, question, w.first_option)
        else:
            await h.api.send_text(user, w.story)
        question = await h.api.wait_for_message(
            user, lambda m: "🎉" in (m.text or "") or bool(m.buttons()) or "✍️" in (m.text or ""),
            since=mark,
        )  # fmt: skip
        if "🎉" in question.text:
            return
    raise AssertionError("the reflection did not end")


@pytest.mark.parametrize("w", [ENGLISH, DUTCH], ids=["english", "dutch"])
async def test_a_week_in_one_language_has_no_word_of_the_other(h: Harness, w: Words) -> None:
    cohort_id = await h.cohort()
    mentor, student = h.api.add_user("Marit", "Jansen"), h.api.add_user("Sam", "Smit")
    await h.say(mentor, f"/start {await h.code(cohort_id, 'mentor')}")  # no consent step
    await h.join(student, await h.code(cohort_id))
    for user in (mentor, student):
        await h.say(user, f"/taal {w.lang}")
    marks = {user.id: h.api.mark(user) for user in (mentor, student)}
    scheduler = h.state.live().scheduler

    # The expectations of week 1, a question about them, and the team's answer.
    await scheduler.push(cohort_id, "expectations", week=1)
    expectations = await h.api.wait_for_message(
        student, lambda m: bool(m.buttons()), since=marks[student.id]
    )
    pressed = await h.api.press(student, expectations, w.understood)
    noted = await h.api.wait_for_callback_answer(pressed)
    assert noted.text and not set(re.findall(r"[a-z]+", noted.text.lower())) & w.foreign
    await h.say(student, f"/vraag {w.question}")
    forwarded = await h.api.wait_for_message(
        mentor, lambda m: w.question in (m.text or ""), since=marks[mentor.id]
    )
    question_id = re.search(r"/antwoord (\d+)", forwarded.text).group(1)  # type: ignore[union-attr]
    mark = h.api.mark(student)
    await h.say(mentor, f"/antwoord {question_id} {w.reply}")
    await h.api.wait_for_message(student, lambda m: w.reply in (m.text or ""), since=mark)

    # The reflection: ratings of the plan's skills, the STARR story, the options.
    mark = h.api.mark(student)
    await scheduler.push(cohort_id, "reflection", week=1)
    first = await h.api.wait_for_message(student, lambda m: "4" in str(m.buttons()), since=mark)
    await answer_everything(h, student, first, w)
    await h.say(student, "/status")
    await h.say(student, "/help")

    # The mentor's week: the overview, the student's history, the digest that looks back.
    await h.say(mentor, "/overzicht")
    await h.say(mentor, "/student Sam")
    mark = h.api.mark(mentor)
    await scheduler.push(cohort_id, "digest", week=2)
    await h.api.wait_for_message(mentor, lambda m: m.kind == "photo", since=mark)

    for user in (student, mentor):
        seen = h.api.messages(user)[marks[user.id] :]
        assert len(seen) >= 5, [m.text for m in seen]
        wrong = {m.text or m.caption: foreign_words(m, w.foreign) for m in seen}
        assert {text: words for text, words in wrong.items() if words} == {}


async def test_the_welcome_and_the_expectations_name_the_cohorts_own_times(h: Harness) -> None:
    """A class that reflects on Wednesday is never told "Friday" (nor in English)."""
    from datetime import date

    from storage.repos import CohortRepo

    async with h.db.transaction() as s:
        cohort = await CohortRepo(s).create(
            "PW2B", date(2026, 9, 1), "Europe/Amsterdam",
            expectations_at="tue 09:00", reflection_at="wed 15:30",
        )  # fmt: skip
    noor, finn = h.api.add_user("Noor"), h.api.add_user("Finn")
    welcome = await h.join(noor, await h.code(cohort.id))
    assert "Elke dinsdag om 09:00" in welcome.text and "Elke woensdag om 15:30" in welcome.text
    await h.join(finn, await h.code(cohort.id))
    await h.say(finn, "/taal en")
    marks = {user.id: h.api.mark(user) for user in (noor, finn)}
    await h.state.live().scheduler.push(cohort.id, "expectations", week=1)
    dutch = await h.api.wait_for_message(noor, lambda m: "Week 1" in m.text, since=marks[noor.id])
    english = await h.api.wait_for_message(finn, lambda m: "Week 1" in m.text, since=marks[finn.id])
    assert "🎯 Op woensdag om 15:30 krijg je de vragen van deze week." in dutch.text
    assert "🎯 On Wednesday at 15:30 you get this week's questions." in english.text
    assert "vrijdag" not in dutch.text.lower() and "friday" not in english.text.lower()
