"""The gap check's one statement (`storage.repos.gap_query`) on both backends: each kind of
row it folds into its union comes back as the separate reads gave it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from storage.db import Database
from storage.models import Cohort
from storage.repos import CohortRepo, MemberRepo
from tests.factories import make_cohort

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


async def test_one_statement_gives_rounds_students_open_rows_and_alerts(db: Database) -> None:
    from storage.repos.alerts import AlertRepo
    from storage.repos.answers_query import AnswersQuery
    from storage.repos.gap_query import GapQuery
    from storage.repos.observations import NOTE_SKILL, ObservationRepo
    from storage.repos.rounds import AnswerRepo, RoundRepo

    cohort_id = await make_cohort(db)
    other = await make_cohort(db, name="PW3B")
    async with db.transaction() as s:
        members = MemberRepo(s)
        bea, ali = [
            await members.add_invited(cohort_id, "student", n, None) for n in ("Bea", "Ali")
        ]
        wb = await members.add_invited(cohort_id, "werkbegeleider", "Mo", None)
        stranger = await members.add_invited(other, "student", "Zoë", None)
        rounds, answers, seen = RoundRepo(s), AnswerRepo(s), ObservationRepo(s)
        old, _ = await rounds.insert_if_absent(cohort_id, 3, "reflection", NOW)
        now_, _ = await rounds.insert_if_absent(cohort_id, 4, "reflection", NOW)
        elsewhere, _ = await rounds.insert_if_absent(other, 4, "reflection", NOW)
        await rounds.add_participants(old.id, [bea, ali])
        await rounds.add_participants(now_.id, [bea, ali])
        await rounds.add_participants(elsewhere.id, [stranger])
        await answers.save(old.id, bea, "r1", kind="rating", skill="spelen", now=NOW, rating=4)
        await answers.save(now_.id, bea, "r1", kind="rating", skill="spelen", now=NOW, rating=2)
        await answers.save(now_.id, bea, "t1", kind="text", skill=None, now=NOW, text="Zwaar.")
        await answers.save(now_.id, ali, "__state", kind="text", skill=None, now=NOW, text="x")
        await rounds.mark_completed(now_.id, bea, NOW)
        await rounds.close(old.id, NOW)
        seen_old, _ = await rounds.insert_if_absent(cohort_id, 3, "observation", NOW)
        seen_now, _ = await rounds.insert_if_absent(cohort_id, 4, "observation", NOW)
        await seen.save(seen_old.id, wb, bea, "spelen", level=3, text=None, now=NOW)
        await seen.save(seen_now.id, wb, bea, "spelen", level=1, text=None, now=NOW)
        await seen.save(seen_now.id, wb, ali, "spelen", level=None, text=None, now=NOW)
        await seen.save(seen_now.id, wb, ali, NOTE_SKILL, level=None, text="Goed", now=NOW)
        await rounds.close(seen_old.id, NOW)
        alerts = AlertRepo(s)
        kept = await alerts.raise_new(cohort_id, "student_gap:1:spelen", kind="student_gap",
                                      member_id=bea, skill="spelen", evidence={}, week=4,
                                      now=NOW)  # fmt: skip
        gone = await alerts.raise_new(cohort_id, "silence:2", kind="silence", member_id=ali,
                                      skill=None, evidence={}, week=4, now=NOW)  # fmt: skip
        assert kept is not None and gone is not None
        await alerts.resolve(gone, NOW)
        # a JSON column read as text through the union: the settings must come back as stored
        await s.execute(
            update(Cohort)
            .where(Cohort.id == cohort_id)
            .values(gap_settings={"evidence_threshold": 4, "mode": "evidence"})
        )
    async with db.transaction() as s:
        state = await GapQuery(s).state(cohort_id, ("open", "closed"))
        query = AnswersQuery(s)
        assert state.answers == await query.answer_rows([now_.id])
        closed_levels = await ObservationRepo(s).closed_levels(cohort_id)
        unresolved = await AlertRepo(s).unresolved(cohort_id)
        old_now = await RoundRepo(s).get(old.id)
        students = await MemberRepo(s).in_cohort(cohort_id, "student")
        cohort = await CohortRepo(s).get(cohort_id)
        nothing = await GapQuery(s).state(cohort_id + 99, ("open", "closed"))
    assert state.cohort == cohort and nothing.cohort is None
    assert state.cohort is not None and state.cohort.gap_settings["evidence_threshold"] == 4
    assert [(c.round.id, c.round.status, c.rows, c.taking) for c in state.reflections] == [
        (old.id, "closed", 1, 2),
        (now_.id, "open", 2 + 1, 2),  # the internal key is a row too
    ]
    assert state.reflections[0].round == old_now
    assert [(c.round.id, c.rows) for c in state.observation_rounds] == [
        (seen_old.id, 1),
        (seen_now.id, 3),
    ]
    # by id; the other cohort's student and the werkbegeleider not
    assert state.students == sorted((m.id, m.name, m.status, m.organisation) for m in students)
    assert {sid for sid, _name, _status, _org in state.students} == {ali, bea}
    assert sorted(state.taking) == sorted([(now_.id, bea, True), (now_.id, ali, False)])
    assert [(a.member_id, a.question_key, a.rating, a.text) for a in state.answers] == [
        (bea, "r1", 2, None),
        (bea, "t1", None, "Zwaar."),
    ]
    # the open round's evidence only: "niet gezien" and the line are none
    assert [(w, sid, skill, level, by) for w, _id, sid, skill, level, by in state.observed] == [
        (4, bea, "spelen", 1, wb)
    ]
    assert closed_levels == [(bea, 3, "spelen", 3, wb)]
    assert [
        (a.id, a.fingerprint, a.status, a.raised_week, a.raise_count) for a in state.alerts
    ] == [(a.id, a.fingerprint, a.status, a.raised_week, a.raise_count) for a in unresolved]
    assert [a.id for a in state.alerts] == [kept]
