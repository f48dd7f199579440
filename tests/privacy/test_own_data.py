"""/mijngegevens: the student's own data as a JSON document, and nothing of anyone else."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.people.enrolment import consent_version
from storage.models import Answer, Round
from storage.personal_data import PERSONAL_TABLES
from tests.harness import Harness
from tests.privacy.helpers import klas


async def test_export_matches_the_stored_data_and_holds_no_other_student(h: Harness) -> None:
    k = await klas(h)
    intro = await h.say(k.anna, "/mijngegevens")
    assert "alles wat ik over jou bewaar" in intro.text and "/stop" in intro.text
    sent = await h.api.wait_for_message(k.anna, lambda m: m.kind == "document")
    assert sent.document is not None and sent.document.filename == "mijngegevens.json"
    raw = sent.document.data
    text = raw.decode("utf-8")
    assert "\n  " in text  # readable indentation
    data = json.loads(text)

    membership = data["membership"]
    assert membership["name"] == "Anna de Vries" and membership["cohort"] == "PW3A"
    assert membership["status"] == "active" and membership["joined_at"]
    assert membership["consent"]["text_version"] == consent_version()
    assert membership["consent"]["given_at"]
    assert membership["telegram_user_id"] == k.anna.id
    assert data["settings"]["language"] == "nl"

    async with h.db.transaction() as s:
        stored = (
            await s.execute(
                select(Answer, Round.week)
                .join(Round, Round.id == Answer.round_id)
                .where(Answer.member_id == k.anna_id)
                .order_by(Answer.id)
            )
        ).all()
    assert len(stored) == 2
    exported = {(a["week"], a["question_key"]): a for a in data["answers"]}
    assert len(exported) == len(stored)
    for answer, week in stored:
        row = exported[(week, answer.question_key)]
        assert (row["skill"], row["rating"], row["choice"], row["text"]) == (
            answer.skill, answer.rating, answer.choice, answer.text
        )  # fmt: skip
        assert row["answered_at"] == answer.answered_at.isoformat()
        assert row["updated_at"] == answer.updated_at.isoformat()
    assert sorted(a["rating"] for a in data["answers"]) == [2, 4]

    [question] = data["questions_to_mentor_team"]
    assert question["question"] == "Mag ik een andere stageplek zoeken?"
    assert question["answer"] == "Ja, bespreek het maandag met ons."
    [alert] = data["alerts_about_you"]
    assert (alert["kind"], alert["skill"], alert["status"]) == (
        "student_gap", "veilig-klimaat", "open"
    )  # fmt: skip
    assert alert["evidence"]["items"][0]["rating"] == 2
    assert [r["round"] for r in data["rounds"]] == ["reflection"]

    # nothing of Bram: not his name, his Telegram number, his words or his alert
    for foreign in ("Bram", "Bakker", str(k.bram.id), "toets", "geheim-bram"):
        assert foreign not in text, foreign
    assert f'"student_id": {k.bram_id}' not in text
    # every registered table that is the student's own data has its section in the export
    sections = {t.exported_as for t in PERSONAL_TABLES if t.exported_as is not None}
    assert sections <= set(data), sections - set(data)


async def test_strangers_and_mentors_get_a_polite_answer(h: Harness) -> None:
    cohort_id = await h.cohort()
    stranger = h.api.add_user("Iemand")
    for command in ("/mijngegevens", "/stop"):
        reply = await h.say(stranger, command)
        assert reply.text.startswith("Ik ken je nog niet"), command
    mentor = h.api.add_user("Marit")
    await h.say(mentor, f"/start {await h.code(cohort_id, 'mentor')}")
    for command in ("/mijngegevens", "/stop"):
        reply = await h.say(mentor, command)
        assert "zijn voor studenten" in reply.text, command
    assert all(m.kind != "document" for m in h.api.messages(stranger) + h.api.messages(mentor))


async def test_export_in_english_for_a_student_who_chose_english(h: Harness) -> None:
    cohort_id = await h.cohort()
    eva = h.api.add_user("Eva")
    await h.join(eva, await h.code(cohort_id))
    await h.say(eva, "/taal en")
    intro = await h.say(eva, "/mijngegevens")
    assert "everything I keep about you" in intro.text
    sent = await h.api.wait_for_message(eva, lambda m: m.kind == "document")
    assert sent.document is not None
    data = json.loads(sent.document.data.decode("utf-8"))
    assert data["settings"] == {"language": "en", "language_chosen": True}
    assert data["answers"] == [] and data["alerts_about_you"] == []
