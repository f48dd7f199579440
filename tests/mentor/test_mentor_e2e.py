"""The mentor side through the real bot and the sandbox server, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from bot.gaps.alerts import evaluate_cohort
from storage.models import Alert, AuditEntry, OutboxMessage, StudentQuestion
from storage.repos import CohortRepo
from storage.repos.answers_query import AnswersQuery
from tests.factories import add_mentor, add_student, make_cohort
from tests.harness import Harness
from tests.mentor.helpers import PLAN, add_week, week_time
from tgsandbox import SandboxUser


async def class_with_gap(h: Harness) -> tuple[int, SandboxUser, SandboxUser, dict[str, int]]:
    """A cohort with a mentor (Marit), three students and two weeks where Anna rates low."""
    marit = h.api.add_user("Marit", "Jansen")
    anna_user = h.api.add_user("Anna", "de Vries")
    async with h.db.transaction() as s:
        cohort = await make_cohort(s, plan=PLAN)
        await add_mentor(s, cohort, "Marit Jansen", marit.id)
        ids = {
            "anna": await add_student(s, cohort, "Anna de Vries", anna_user.id),
            "bram": await add_student(s, cohort, "Bram Bakker", 5001),
            "cem": await add_student(s, cohort, "Cem Yilmaz", 5002),
        }
        for week in (1, 2):
            await add_week(
                s,
                cohort,
                week,
                {
                    ids["anna"]: {"klimaat": 1, "samenwerken": 4},
                    ids["bram"]: {"klimaat": 4, "samenwerken": 5},
                    ids["cem"]: {"klimaat": 3, "samenwerken": 4},
                },
                texts={ids["anna"]: f"=Week {week}: een kind huilde, ik wist niet wat te doen."},
            )
    return cohort, marit, anna_user, ids


async def test_mentor_presses_gezien_and_the_alert_shows_it(h: Harness) -> None:
    cohort, marit, _anna, _ids = await class_with_gap(h)
    async with h.db.transaction() as s:
        [alert_id] = await evaluate_cohort(s, cohort, week_time(2))
    assert h.state.running is not None
    h.state.running.sender.wake()
    alert = await h.api.wait_for_message(marit, timeout=10)
    assert "Anna de Vries" in alert.text and "Zelf: 1 · 1 — Werkplek" in alert.text
    assert [b["text"] for b in alert.buttons()] == [
        "Gezien",
        "Bespreken",
        "Afspraak",
        "Stil 2 weken",
    ]

    query = await h.api.press(marit, alert, "Gezien")
    reply = await h.api.wait_for_callback_answer(query)
    assert reply.text == "Genoteerd: gezien."
    edited = await h.api.wait_until(
        lambda: next((m for m in h.api.messages(marit) if m.message_id == alert.message_id
                      and "Gezien door" in m.text), None)
    )  # fmt: skip
    assert "✓ Gezien door Marit Jansen om " in edited.text
    assert [b["text"] for b in edited.buttons()] == [
        "Gezien",
        "Bespreken",
        "Afspraak",
        "Stil 2 weken",
    ]
    async with h.db.transaction() as s:
        row = await s.get(Alert, alert_id)
        audit = list(await s.scalars(select(AuditEntry)))
    assert row is not None and row.status == "acknowledged"
    assert row.acknowledged_by == "Marit Jansen" and row.acknowledged_at is not None
    assert row.acknowledged_week == 2
    assert [(a.actor_user_id, a.action, a.target) for a in audit] == [
        (marit.id, "alert_ack", f"alert:{alert_id}")
    ]

    query = await h.api.press(marit, edited, "Bespreken")
    assert (await h.api.wait_for_callback_answer(query)).text.startswith("Genoteerd")
    async with h.db.transaction() as s:
        row = await s.get(Alert, alert_id)
    assert row is not None and row.discuss


async def test_alert_buttons_refuse_other_people(h: Harness) -> None:
    cohort, _marit, anna, _ids = await class_with_gap(h)
    other_mentor = h.api.add_user("Olga")
    async with h.db.transaction() as s:
        [alert_id] = await evaluate_cohort(s, cohort, week_time(2))
        other = await make_cohort(s, "PW3B", plan=PLAN)
        await add_mentor(s, other, "Olga", other_mentor.id)
    for user in (anna, other_mentor):
        sent = await h.app.bot.send_message(user.id, "test")
        message = h.api.messages(user)[-1]
        assert message.message_id == sent.message_id
        query = await h.api.press_button(user, message, f"al:{alert_id}:ack", check=False)
        answer = await h.api.wait_for_callback_answer(query)
        assert "geen mentor" in answer.text
    async with h.db.transaction() as s:
        row = await s.get(Alert, alert_id)
        assert row is not None and row.status == "open" and row.acknowledged_by is None
        assert list(await s.scalars(select(AuditEntry))) == []


async def test_student_and_stranger_get_the_polite_refusal(h: Harness) -> None:
    _cohort, _marit, anna, _ids = await class_with_gap(h)
    stranger = h.api.add_user("Iemand")
    for user in (anna, stranger):
        for command in ("/gaten", "/overzicht", "/export", "/student Anna", "/antwoord 1 hoi"):
            reply = await h.say(user, command)
            assert reply.text == "Dat commando is alleen voor het mentorteam.", command


async def test_overview_gaps_and_student_history(h: Harness) -> None:
    cohort, marit, _anna, _ids = await class_with_gap(h)
    async with h.db.transaction() as s:
        await evaluate_cohort(s, cohort, week_time(2))
    assert h.state.running is not None
    h.state.running.sender.wake()  # the alert first: else it may land between the replies
    await h.api.wait_for_message(marit, lambda m: "Signaal" in (m.text or ""), timeout=10)
    overview = await h.say(marit, "/overzicht")
    assert "reflectie week 2" in overview.text and "Ingevuld: 3 van 3" in overview.text
    assert "Open signalen: 1" in overview.text
    gaps = await h.say(marit, "/gaten")
    assert "Anna de Vries" in gaps.text and "Zorgt voor een veilig pedagogisch klimaat" in gaps.text
    history = await h.say(marit, "/student anna")
    assert "Anna de Vries" in history.text and "Reflecties ingevuld: 2 van 2" in history.text
    assert any(line.split()[-2:] == ["1", "1"] for line in history.text.splitlines())
    fuzzy = await h.say(marit, "/student Bram Baker")
    assert "Bram Bakker" in fuzzy.text
    missing = await h.say(marit, "/student Zoë")
    assert "Ik vind geen student" in missing.text
    async with h.db.transaction() as s:
        actions = [a.action for a in await s.scalars(select(AuditEntry))]
    assert actions == ["student_view", "student_view"]


async def test_export_sends_a_csv_matching_the_stored_answers(h: Harness) -> None:
    cohort, marit, _anna, _ids = await class_with_gap(h)
    reply = await h.say(marit, "/export")
    assert reply.kind == "document" and reply.document is not None
    assert reply.document.filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(reply.document.data.decode("utf-8"))))
    assert rows[0] == [  # in the mentor's language: Dutch
        "week", "student", "vraag", "vaardigheid", "score", "keuze", "tekst", "beantwoord op",
        "bron",
    ]  # fmt: skip
    async with h.db.transaction() as s:
        stored = await AnswersQuery(s).answers(cohort)
    expected = [
        [
            str(a.week),
            a.student,
            a.question_key,
            a.skill or "",
            "" if a.rating is None else str(a.rating),
            a.choice or "",
            ("'" + a.text) if a.text and a.text.startswith("=") else (a.text or ""),
            a.answered_at.isoformat(timespec="seconds"),
            "student",
        ]
        for a in stored
    ]
    assert rows[1:] == expected and len(expected) == 14
    async with h.db.transaction() as s:
        audit = [(a.action, a.cohort_id) for a in await s.scalars(select(AuditEntry))]
    assert audit == [("export", cohort)]


async def test_chart_is_a_png_photo(h: Harness) -> None:
    _cohort, marit, _anna, _ids = await class_with_gap(h)
    reply = await h.say(
        marit,
        "/grafiek",
    )
    assert reply.kind == "photo" and reply.photo is not None
    assert reply.photo.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(reply.photo.data) > 5000


async def test_answer_reaches_the_student_through_the_outbox(h: Harness) -> None:
    cohort, marit, anna, ids = await class_with_gap(h)
    async with h.db.transaction() as s:
        question = StudentQuestion(cohort_id=cohort, member_id=ids["anna"], text="Mag ik ruilen?",
                                   asked_at=week_time(2))  # fmt: skip
        s.add(question)
        await s.flush()
        question_id = question.id
    reply = await h.say(marit, f"/antwoord {question_id} Ja, dat mag.\nOverleg wel even.")
    assert reply.text == "Je antwoord gaat naar Anna de Vries."
    async with h.db.transaction() as s:
        row = await s.scalar(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == f"answer:{question_id}")
        )
        stored = await s.get(StudentQuestion, question_id)
    assert row is not None and row.chat_id == anna.id and row.member_id == ids["anna"]
    assert (
        "mentorteam" in row.payload["text"]
        and "Ja, dat mag.\nOverleg wel even." in row.payload["text"]
    )
    assert stored is not None and stored.answered_by == "Marit Jansen"
    delivered = await h.api.wait_for_message(anna, timeout=10)
    assert "Antwoord van je mentorteam" in delivered.text and "Mag ik ruilen?" in delivered.text
    again = await h.say(marit, f"/antwoord {question_id} Nog iets")
    assert "al beantwoord door Marit Jansen" in again.text
    wrong = await h.say(marit, "/antwoord 99999 hallo")
    assert "geen vraag met nummer 99999" in wrong.text


async def test_expectations_override_is_stored_for_next_week(h: Harness) -> None:
    cohort, marit, _anna, _ids = await class_with_gap(h)
    reply = await h.say(marit, "/verwachting Deze week: oefen een kringgesprek.\nSucces!")
    assert "zijn opgeslagen" in reply.text
    async with h.db.transaction() as s:
        record = await CohortRepo(s).get(cohort)
    assert record is not None
    [(week, versions)] = record.gap_settings["expectations_override"].items()
    assert f"week {week} " in reply.text
    assert versions == {"nl": "Deze week: oefen een kringgesprek.\nSucces!"}


async def test_team_group_gets_alerts_and_only_its_own_mentors_commands(h: Harness) -> None:
    cohort, marit, _anna, _ids = await class_with_gap(h)
    olga = h.api.add_user("Olga")
    group = h.api.add_group("Mentorteam PW3A")
    for user in (marit, olga):
        await h.api.add_member_to_group(user, group)
    async with h.db.transaction() as s:
        await CohortRepo(s).link_group(cohort, group.id)
        other = await make_cohort(s, "PW3B", plan=PLAN)
        await add_mentor(s, other, "Olga", olga.id)
        [alert_id] = await evaluate_cohort(s, cohort, week_time(2))
    assert h.state.running is not None
    h.state.running.sender.wake()
    alert = await h.api.wait_for_message(group, predicate=lambda m: "Signaal" in m.text, timeout=10)
    assert h.api.messages(marit) == []  # the linked group, not each mentor privately

    query = await h.api.press(olga, alert, "Stil 2 weken")
    assert "geen mentor" in (await h.api.wait_for_callback_answer(query)).text
    query = await h.api.press(marit, alert, "Stil 2 weken")
    assert (await h.api.wait_for_callback_answer(query)).text == "Genoteerd: twee weken stil."
    async with h.db.transaction() as s:
        row = await s.get(Alert, alert_id)
    assert row is not None and row.status == "muted" and row.muted_until is not None

    gaps = await h.say(marit, "/gaten", chat=group)
    assert "Anna de Vries" in gaps.text and "stil" in gaps.text
    refused = await h.say(olga, "/gaten", chat=group)  # PW3B's mentor in PW3A's group
    assert refused.text == "Dat commando is alleen voor het mentorteam."
    private = await h.say(olga, "/gaten")
    assert "PW3B" in private.text and "Anna" not in private.text


async def test_mentor_of_two_cohorts_names_the_cohort_first(h: Harness) -> None:
    cohort, marit, _anna, _ids = await class_with_gap(h)
    async with h.db.transaction() as s:
        other = await make_cohort(s, "PW3B", plan=PLAN)
        await add_mentor(s, other, "Marit Jansen", marit.id)
        await evaluate_cohort(s, cohort, week_time(2))
    # the alert goes to Marit's chat too: let it arrive first, or the sender's next poll
    # (every second) races the reply to /gaten on a loaded machine
    assert h.state.running is not None
    h.state.running.sender.wake()
    await h.api.wait_for_message(marit, lambda m: "Signaal" in (m.text or ""), timeout=10)
    first = await h.say(marit, "/gaten")
    assert "PW3A" in first.text and "Anna de Vries" in first.text
    named = await h.say(marit, "/gaten pw3b")
    assert named.text == "Geen open signalen voor PW3B."
    history = await h.say(marit, "/student PW3B Anna")
    assert history.text == "Ik vind geen student „Anna” in PW3B."
