"""purge_expired: exactly the rows older than MENTORBOT_RETENTION_DAYS go, on both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from bot.people.retention import purge_expired
from storage.db import Database
from storage.models import (
    Alert,
    Answer,
    AuditEntry,
    Cohort,
    Member,
    OutboxMessage,
    Participation,
    Prompt,
    Round,
    StudentQuestion,
)
from tests.conftest import make_settings

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DAYS = 365
OLD = NOW - timedelta(days=DAYS + 1)  # past the period
RECENT = NOW - timedelta(days=DAYS - 1)  # just inside it


async def seed(db: Database) -> dict[str, int]:
    """One old and one recent row of everything, plus rows that must stay whatever their age."""
    async with db.transaction() as s:
        cohort = Cohort(name="PW3A", start_date=date(2024, 9, 1))
        s.add(cohort)
        await s.flush()

        def member(name: str, status: str, joined: datetime, user: int | None) -> Member:
            return Member(cohort_id=cohort.id, role="student", name=name, status=status,
                          joined_at=joined, telegram_user_id=user, chat_id=user)  # fmt: skip

        anna = member("Anna", "active", OLD, 11)
        gone = member("Gone", "stopped", OLD, None)  # left, nothing left: removed
        late = member("Late", "stopped", OLD, None)  # left, a recent answer: stays
        fresh = member("Fresh", "stopped", RECENT, None)  # left recently, no data: stays
        s.add_all([anna, gone, late, fresh])
        await s.flush()
        old_round = Round(cohort_id=cohort.id, week=1, kind="reflection", due_at=OLD)
        new_round = Round(cohort_id=cohort.id, week=60, kind="reflection", due_at=RECENT)
        s.add_all([old_round, new_round])
        await s.flush()

        def answer(rnd: Round, who: Member, key: str, at: datetime) -> Answer:
            return Answer(round_id=rnd.id, member_id=who.id, question_key=key, kind="rating",
                          rating=3, answered_at=at, updated_at=at)  # fmt: skip

        s.add_all(
            [
                answer(old_round, anna, "old", OLD),  # old by date
                # answered inside the period, but its round was due before the cut-off
                answer(old_round, anna, "late-in-old-round", RECENT),
                answer(new_round, anna, "new", RECENT),
                answer(new_round, late, "new", RECENT),
                Participation(round_id=old_round.id, member_id=anna.id, completed_at=OLD),
                Participation(round_id=new_round.id, member_id=anna.id, completed_at=RECENT),
                Prompt(
                    token="oldtoken0001",
                    round_id=old_round.id,
                    member_id=anna.id,
                    question_key="old",
                    created_at=OLD,
                ),
                Prompt(
                    token="newtoken0001",
                    round_id=new_round.id,
                    member_id=anna.id,
                    question_key="new",
                    created_at=RECENT,
                ),
                StudentQuestion(cohort_id=cohort.id, member_id=anna.id, text="oud", asked_at=OLD),
                StudentQuestion(
                    cohort_id=cohort.id, member_id=anna.id, text="nieuw", asked_at=RECENT
                ),
            ]
        )

        def alert(key: str, status: str, resolved: datetime | None) -> Alert:
            return Alert(cohort_id=cohort.id, fingerprint=key, open_key=None if resolved else key,
                         kind="student_gap", member_id=anna.id, status=status, raised_at=OLD,
                         resolved_at=resolved)  # fmt: skip

        s.add_all(
            [
                alert("resolved-old", "resolved", OLD),
                alert("resolved-new", "resolved", RECENT),
                alert("open-old", "open", None),  # open: stays however old
            ]
        )

        def outbox(key: str, status: str, at: datetime) -> OutboxMessage:
            return OutboxMessage(dedupe_key=key, cohort_id=cohort.id, chat_id=11, kind="notice",
                                 payload={"text": key}, status=status, created_at=at,
                                 not_before=at)  # fmt: skip

        s.add_all(
            [
                outbox("sent-old", "sent", OLD),
                outbox("failed-old", "failed", OLD),
                outbox("sent-new", "sent", RECENT),
                outbox("pending-old", "pending", OLD),  # not yet delivered: stays
                AuditEntry(at=OLD, action="student_view", target="member:1"),
                AuditEntry(at=RECENT, action="student_view", target="member:1"),
            ]
        )
        await s.flush()
        return {"anna": anna.id, "gone": gone.id, "late": late.id, "fresh": fresh.id}


async def remaining(db: Database) -> dict[str, object]:
    async with db.transaction() as s:

        async def col(column: object) -> list[object]:
            return sorted(await s.scalars(select(column)), key=str)  # type: ignore[call-overload]

        return {
            "answers": await col(Answer.question_key),
            "participations": len(await col(Participation.id)),
            "prompts": await col(Prompt.token),
            "questions": await col(StudentQuestion.text),
            "alerts": await col(Alert.fingerprint),
            "outbox": await col(OutboxMessage.dedupe_key),
            "audit": len(await col(AuditEntry.id)),
            "members": await col(Member.name),
            "rounds": int(await s.scalar(select(func.count()).select_from(Round)) or 0),
        }


async def test_purge_deletes_exactly_the_rows_past_the_retention_period(db: Database) -> None:
    await seed(db)
    settings = make_settings(db.url, "http://127.0.0.1:9", MENTORBOT_RETENTION_DAYS=DAYS)
    deleted = await purge_expired(db, settings, NOW)
    assert await remaining(db) == {
        "answers": ["new", "new"],
        "participations": 1,
        "prompts": ["newtoken0001"],
        "questions": ["nieuw"],
        "alerts": ["open-old", "resolved-new"],
        "outbox": ["pending-old", "sent-new"],
        "audit": 1,
        "members": ["Anna", "Fresh", "Late"],
        "rounds": 2,
    }
    # 2 answers, 1 participation, 1 prompt, 1 question, 1 alert, 2 outbox, 1 audit, 1 member
    assert deleted == 10
    assert await purge_expired(db, settings, NOW) == 0  # a second run finds nothing


async def test_nothing_goes_inside_the_default_period(db: Database) -> None:
    await seed(db)
    settings = make_settings(db.url, "http://127.0.0.1:9")
    assert settings.retention_days == 730
    assert await purge_expired(db, settings, NOW) == 0
