"""The gap check's one statement (`storage.repos.gap_query`) on both backends: each kind of
row it folds into its union comes back as the separate reads gave it; and the cohort's change
counter it reads (migration 0008's triggers) moves with what the check keeps, not with a tap."""

from __future__ import annotations

from dataclasses import astuple
from datetime import UTC, datetime

from sqlalchemy import update

from storage.db import Database
from storage.models import Cohort
from storage.records import AnswerRow
from storage.repos import CohortRepo, MemberRepo
from tests.factories import make_cohort

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


async def test_one_statement_gives_the_open_rows_alerts_and_cohort(db: Database) -> None:
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
        state = await GapQuery(s).state(cohort_id)
        query = AnswersQuery(s)
        # the closed rounds' reader's records, without the time (`AnswerRow`)
        assert state.answers == [
            AnswerRow(*astuple(r)[:-1]) for r in await query.answer_rows([now_.id])
        ]
        closed_levels = await ObservationRepo(s).closed_levels(cohort_id)
        unresolved = await AlertRepo(s).unresolved(cohort_id)
        now_round = await RoundRepo(s).get(now_.id)
        cohort = await CohortRepo(s).get(cohort_id)
        nothing = await GapQuery(s).state(cohort_id + 99)
    assert state.cohort == cohort and nothing.cohort is None
    assert state.cohort is not None and state.cohort.gap_settings["evidence_threshold"] == 4
    # the open reflection rounds only: the closed ones, the observation rounds and the
    # students are the check's to keep while the counter holds
    assert state.open_reflections == [now_round]
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


async def _version(db: Database, cohort_id: int) -> int:
    from storage.repos.gap_query import GapQuery

    async with db.transaction() as s:
        return (await GapQuery(s).state(cohort_id)).version


async def test_the_counter_moves_with_what_is_kept_not_with_a_tap(db: Database) -> None:
    """Every path that can change a closed round's rows or the students bumps the counter
    (retention, erasure, a werkbegeleider's /stop, a round closing, a student leaving); a tap
    in an open round, a new open round and a member's chat do not."""
    from datetime import timedelta

    from storage.models import Member
    from storage.repos.observations import ObservationRepo
    from storage.repos.privacy import ErasureRepo
    from storage.repos.retention import RetentionRepo
    from storage.repos.rounds import AnswerRepo, RoundRepo

    cohort_id = await make_cohort(db)
    other = await make_cohort(db, name="PW3B")
    year_ago = NOW - timedelta(days=400)
    async with db.transaction() as s:
        members = MemberRepo(s)
        bea, ali, eva = [
            await members.add_invited(cohort_id, "student", n, None) for n in ("Bea", "Ali", "Eva")
        ]
        wb = await members.add_invited(cohort_id, "werkbegeleider", "Mo", None)
        rounds = RoundRepo(s)
        old, _ = await rounds.insert_if_absent(cohort_id, 1, "reflection", year_ago)
        last, _ = await rounds.insert_if_absent(cohort_id, 3, "reflection", NOW)
        seen, _ = await rounds.insert_if_absent(cohort_id, 3, "observation", NOW)
        for r in (old, last):
            await rounds.add_participants(r.id, [bea, ali, eva])
            for sid in (bea, ali, eva):
                await AnswerRepo(s).save(r.id, sid, "r1", kind="rating", skill="spelen",
                                         now=r.due_at, rating=3)  # fmt: skip
        await ObservationRepo(s).save(seen.id, wb, bea, "spelen", level=2, text=None, now=NOW)
        await rounds.close(old.id, NOW)
        await rounds.close(last.id, NOW)
        await rounds.close(seen.id, NOW)
    v = await _version(db, cohort_id)
    untouched = await _version(db, other)

    async def moved(before: int) -> int:
        now = await _version(db, cohort_id)
        assert now > before
        return now

    # a new open round and the taps in it: read on each check, the counter stays
    async with db.transaction() as s:
        rounds = RoundRepo(s)
        open_, _ = await rounds.insert_if_absent(cohort_id, 4, "reflection", NOW)
        seen_now, _ = await rounds.insert_if_absent(cohort_id, 4, "observation", NOW)
        await rounds.add_participants(open_.id, [bea, ali])
        await AnswerRepo(s).save(open_.id, bea, "r1", kind="rating", skill="spelen", now=NOW,
                                 rating=2)  # fmt: skip
        await AnswerRepo(s).save(open_.id, bea, "r1", kind="rating", skill="spelen", now=NOW,
                                 rating=1)  # fmt: skip
        await rounds.mark_started(open_.id, bea, NOW)
        await rounds.mark_completed(open_.id, bea, NOW)
        await ObservationRepo(s).save(seen_now.id, wb, bea, "spelen", level=1, text=None,
                                      now=NOW)  # fmt: skip
        await s.execute(update(Member).where(Member.id == bea).values(chat_id=77))
    assert await _version(db, cohort_id) == v

    # the round closing: its rows join the kept part
    async with db.transaction() as s:
        await RoundRepo(s).close(open_.id, NOW)
    v = await moved(v)
    # a closed round's answer changed (no path does that today; a trigger would see it)
    async with db.transaction() as s:
        await AnswerRepo(s).save(last.id, ali, "r1", kind="rating", skill="spelen", now=NOW,
                                 rating=1)  # fmt: skip
    v = await moved(v)
    # retention: the year-old round's rows go
    async with db.transaction() as s:
        purged = await RetentionRepo(s).purge(NOW - timedelta(days=300))
    assert purged["answers"] == 3
    v = await moved(v)
    # a student leaving
    async with db.transaction() as s:
        await MemberRepo(s).set_status(ali, "stopped")
    v = await moved(v)
    # erasure of a student (her rows of closed rounds, then her member row)
    async with db.transaction() as s:
        await ErasureRepo(s).delete_student(eva, cohort_id)
    v = await moved(v)
    # a werkbegeleider's /stop: their observations of a closed round go
    async with db.transaction() as s:
        await ObservationRepo(s).delete_by_werkbegeleider(wb)
    v = await moved(v)
    # nothing of it touched the other cohort
    assert await _version(db, other) == untouched


async def test_it_tells_whether_an_agreements_outcome_waits_to_be_applied(db: Database) -> None:
    """What `AgreementRepo.unapplied` finds, folded into the same statement: the check after
    an answer applies outcomes only when there is one, without a statement of its own."""
    from storage.repos.gap_query import GapQuery
    from storage.repos.loop import AgreementRepo
    from storage.repos.rounds import RoundRepo

    cohort_id = await make_cohort(db)
    other = await make_cohort(db, name="PW3B")
    async with db.transaction() as s:
        bea = await MemberRepo(s).add_invited(cohort_id, "student", "Bea", None)
        zoe = await MemberRepo(s).add_invited(other, "student", "Zoë", None)
        round_, _ = await RoundRepo(s).insert_if_absent(cohort_id, 4, "reflection", NOW)
        made = {"status": "active", "made_by": "Anouk", "made_by_user_id": 41, "text": "Oefen"}
        mine = await AgreementRepo(s).create(cohort_id=cohort_id, member_id=bea, **made)
        theirs = await AgreementRepo(s).create(cohort_id=other, member_id=zoe, **made)
    async with db.reading() as s:
        assert (await GapQuery(s).state(cohort_id)).pending_outcomes is False  # no outcome yet
    async with db.transaction() as s:
        await AgreementRepo(s).record_outcome(theirs.id, "gelukt", round_.id, NOW)
    async with db.reading() as s:
        assert (await GapQuery(s).state(cohort_id)).pending_outcomes is False  # another class
    async with db.transaction() as s:
        await AgreementRepo(s).record_outcome(mine.id, "gelukt", round_.id, NOW)
    async with db.reading() as s:
        assert (await GapQuery(s).state(cohort_id)).pending_outcomes is True
    async with db.transaction() as s:
        await AgreementRepo(s).change(mine.id, outcome_applied=True)
    async with db.reading() as s:
        assert (await GapQuery(s).state(cohort_id)).pending_outcomes is False  # applied


async def test_it_gives_the_teams_contacts_and_the_gaps_an_agreement_resolved(
    db: Database,
) -> None:
    """What an alert raised by the check needs, read with the same statement: the team's
    chats and languages as `TeamRepo.contacts` gives them, and the latest week a gap was
    resolved after a learning agreement (raised again only on later evidence)."""
    from storage.repos import UserSettingsRepo
    from storage.repos.alerts import AlertRepo
    from storage.repos.gap_query import GapQuery
    from storage.repos.team import TeamRepo
    from tests.factories import add_member, add_mentor

    cohort_id = await make_cohort(db)
    other = await make_cohort(db, name="PW3B")
    async with db.transaction() as s:
        await add_mentor(s, cohort_id, "Bram", 42)
        await add_mentor(s, cohort_id, "Anouk", 41)
        await add_mentor(s, other, "Els", 43)
        await add_member(s, cohort_id, "Sara", "student", 44)
        await UserSettingsRepo(s).set_language(41, "en")
        alerts = AlertRepo(s)
        for week, fp, how in ((3, "student_gap:7:spelen", "after_agreement"),
                              (6, "student_gap:7:spelen", "after_agreement"),
                              (5, "class_gap:-:taal", None)):  # fmt: skip
            alert_id = await alerts.raise_new(cohort_id, fp, kind=fp.split(":")[0],
                                              member_id=None, skill=None, evidence={},
                                              week=week, now=NOW)  # fmt: skip
            assert alert_id is not None
            assert await alerts.resolve(alert_id, NOW, resolution=how, week=week)
    async with db.reading() as s:
        state = await GapQuery(s).state(cohort_id)
        assert state.team == await TeamRepo(s).contacts(cohort_id)
        assert [m.telegram_user_id for m in state.team.mentors] == [41, 42]  # by name
        assert [m.language for m in state.team.mentors] == ["en", None]
        assert state.agreed == {"student_gap:7:spelen": 6}  # the latest; not the rules' own
    async with db.transaction() as s:
        await CohortRepo(s).link_group(cohort_id, -100)
    async with db.reading() as s:
        state = await GapQuery(s).state(cohort_id)
        assert state.team.group_chat_id == -100
        assert state.team == await TeamRepo(s).contacts(cohort_id)
