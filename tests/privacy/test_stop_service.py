"""stop_student on both backends: once only, even when asked twice."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from bot.people.privacy import stop_student
from storage.db import Database
from storage.models import AuditEntry, OutboxMessage
from storage.repos import CohortRepo, MemberRepo

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


async def test_a_second_stop_changes_nothing_and_tells_nobody(db: Database) -> None:
    async with db.transaction() as s:
        cohort = await CohortRepo(s).create("PW3A", date(2026, 9, 1), "Europe/Amsterdam")
        members = MemberRepo(s)
        await members.add_active(cohort.id, "mentor", name="Marit", telegram_user_id=1,
                                 chat_id=1, consent_version=None, now=NOW)  # fmt: skip
        anna_id = await members.add_active(cohort.id, "student", name="Anna",
                                           telegram_user_id=2, chat_id=2,
                                           consent_version="v", now=NOW)  # fmt: skip
        anna = await members.get(anna_id)
    assert anna is not None
    results = []
    for _ in range(2):
        async with db.transaction() as s:
            results.append(await stop_student(s, anna, delete_data=False, now=NOW))
    first, second = results
    assert first is not None and first.team_told == 1 and not first.deleted
    assert second is None
    async with db.transaction() as s:
        notices = await s.scalar(select(func.count()).select_from(OutboxMessage))
        audits = await s.scalar(select(func.count()).select_from(AuditEntry))
        stopped = await MemberRepo(s).get(anna_id)
    assert (notices, audits) == (1, 1)
    assert stopped is not None and stopped.status == "stopped" and stopped.telegram_user_id is None
