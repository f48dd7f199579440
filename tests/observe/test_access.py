"""What a werkbegeleider may do: only the observation requests of their own
students. No mentor command, no other student, no self-ratings; a mentor sees both views in
/student and can unlink; /signaal reaches the mentor team."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import FieldSignal, Supervision
from tests.e2e.test_checkin import answer_until
from tests.harness import Harness
from tests.observe.helpers import accept, class_with_students, is_request, link_of
from tests.security.helpers import MENTOR_ONLY

MENTOR_COMMANDS = ("/overzicht", "/gaten", "/student Anna", "/student Bram", "/grafiek",
                   "/export", "/nu reflection", "/nu observatie", "/afspraak Anna oefent",
                   "/verwachting Oefen een kringgesprek.")  # fmt: skip


async def test_werkbegeleider_gets_no_mentor_command_no_student_data(h: Harness) -> None:
    cohort_id, [anna, bram] = await class_with_students(h, "Anna", "Bram")
    ellen, frits = h.api.add_user("Ellen"), h.api.add_user("Frits")
    await accept(h, ellen, await link_of(h, anna))
    await accept(h, frits, await link_of(h, bram))
    scheduler = h.state.live().scheduler
    await scheduler.push(cohort_id, "expectations", week=1)
    await scheduler.push(cohort_id, "reflection", week=1)
    first = await h.api.wait_for_message(
        anna, lambda m: "reflectie van week 1" in (m.text or ""), timeout=20
    )
    await answer_until(h, anna, first, None)  # Anna's own ratings and words exist now

    for command in MENTOR_COMMANDS:
        assert MENTOR_ONLY in (await h.say(ellen, command)).text, command
    assert "voor studenten" in (await h.say(ellen, "/status")).text
    assert "voor studenten" in (await h.say(ellen, "/vraag Mag ik iets vragen?")).text
    assert "Alleen een student" in (await h.say(ellen, "/werkbegeleider")).text

    await scheduler.push(cohort_id, "observation", week=1)
    mine = await h.api.wait_for_message(ellen, is_request, timeout=20)
    theirs = await h.api.wait_for_message(frits, is_request, timeout=20)
    assert "Anna" in mine.text and "Bram" in theirs.text
    # a forged tap on Frits's request about Bram changes nothing
    data = theirs.buttons()[0]["callback_data"]
    query = await h.api.press_button(ellen, theirs, data, check=False)
    await h.api.wait_until(lambda: query in h.api.answered_callbacks)
    assert "werkt niet meer" in h.api.answered_callbacks[query].text
    # never a self-rating, a reflection text, an expectations message or an alert
    texts = " ".join(m.text or "" for m in h.api.messages(ellen))
    for private in ("reflectie", "Ik las voor", "verwacht", "Bram", "/5"):
        assert private not in texts, private


async def test_mentor_sees_both_views_and_unlinks(h: Harness) -> None:
    cohort_id, [anna] = await class_with_students(h, "Anna")
    docent, ellen = h.api.add_user("Docent"), h.api.add_user("Ellen")
    await h.say(docent, f"/start {await h.code(cohort_id, 'mentor')}")
    await accept(h, ellen, await link_of(h, anna))
    told = await h.api.wait_for_message(
        docent, lambda m: "is nu werkbegeleider van" in (m.text or ""), timeout=20
    )
    assert told.text.startswith("Ellen is nu werkbegeleider van Anna.")
    scheduler = h.state.live().scheduler
    await scheduler.push(cohort_id, "reflection", week=1)
    first = await h.api.wait_for_message(
        anna, lambda m: "reflectie van week 1" in (m.text or ""), timeout=20
    )
    await answer_until(h, anna, first, None)
    await scheduler.push(cohort_id, "observation", week=1)
    request = await h.api.wait_for_message(ellen, is_request, timeout=20)
    mark = h.api.mark(ellen)
    await h.api.press(ellen, request, "Oefenen")
    await h.api.wait_for_message(ellen, is_request, since=mark)

    view = await h.say(docent, "/student Anna")
    assert "Werkbegeleider(s): Ellen" in view.text
    lines = view.text.splitlines()
    row = lines.index(next(line for line in lines if line.startswith("Zorgt")))
    assert lines[row + 1].split() == ["werkplek", "O"]  # the workplace under the self-rating
    assert [b["text"] for b in view.buttons()] == ["Ontkoppel Ellen"]

    mark = h.api.mark(docent)
    await h.api.press(docent, view, "Ontkoppel Ellen")
    told = await h.api.wait_for_message(docent, since=mark)
    assert "Ellen is geen werkbegeleider meer van Anna" in told.text
    async with h.db.transaction() as s:
        ended = await s.scalar(select(Supervision.ended_at))
    assert ended is not None
    query = await h.api.press(ellen, request, "Goed")  # no longer hers to answer
    await h.api.wait_until(lambda: query in h.api.answered_callbacks)
    assert "werkt niet meer" in h.api.answered_callbacks[query].text
    # the unlink button of a class that is not yours does nothing
    stranger = h.api.add_user("Vreemde")
    query = await h.api.press(stranger, view, "Ontkoppel Ellen")
    await h.api.wait_until(lambda: query in h.api.answered_callbacks)
    assert "niet (meer) vinden" in h.api.answered_callbacks[query].text


async def test_signaal_reaches_the_mentor_team_tagged_with_a_skill(h: Harness) -> None:
    cohort_id, [anna] = await class_with_students(h, "Anna")
    docent, ellen = h.api.add_user("Docent"), h.api.add_user("Ellen")
    await h.say(docent, f"/start {await h.code(cohort_id, 'mentor')}")
    await accept(h, ellen, await link_of(h, anna))

    assert "Stuur /signaal met" in (await h.say(ellen, "/signaal")).text
    sent = await h.say(ellen, "/signaal Nieuwe stagiairs vinden het klimaat in de groep lastig")
    assert "naar het mentorteam gestuurd" in sent.text
    signal = await h.api.wait_for_message(
        docent, lambda m: "Signaal uit de praktijk" in (m.text or ""), timeout=20
    )
    assert "van Ellen (werkbegeleider)" in signal.text
    assert "over Zorgt voor een veilig pedagogisch klimaat" in signal.text
    assert "„Nieuwe stagiairs vinden het klimaat in de groep lastig”" in signal.text
    assert "voor werkbegeleiders en mentoren" in (await h.say(anna, "/signaal hoi")).text
    mentor_sent = await h.say(docent, "/signaal De meldcode is bij veel locaties onbekend")
    assert "gestuurd" in mentor_sent.text
    async with h.db.transaction() as s:
        rows = (await s.execute(select(FieldSignal.role, FieldSignal.skill))).all()
        total = await s.scalar(select(func.count()).select_from(FieldSignal))
    assert sorted(rows) == [("mentor", None), ("werkbegeleider", "klimaat")] and total == 2
    regie = h.api.add_user("Regie")
    await h.say(regie, f"/start {await h.code(cohort_id, 'observer')}")
    report = await h.say(regie, "/trends")
    assert "Signalen uit de praktijk deze maand:" in report.text
    assert "„Nieuwe stagiairs vinden het klimaat in de groep lastig” (" in report.text
    assert "Ellen" not in report.text and "Docent" not in report.text
