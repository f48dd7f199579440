"""The loop's rows about a student go with the student (/stop with deletion) and after the
retention period, like the rest of their data (real SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from bot.outbox.queue import Outgoing, Queued, queue
from bot.people.privacy import delete_student_data
from bot.people.retention import purge_in
from storage.db import Database
from storage.models import Agreement, Compliment, LoopNote, OutboxMessage
from storage.repos import MemberRepo
from storage.repos.loop import AgreementRepo, ComplimentRepo, NoteRepo
from storage.repos.outbox import OutboxRepo
from tests.factories import add_student, make_cohort
from tests.mentor.helpers import PLAN, START


async def _rows_about(db: Database, member_id: int) -> int:
    total = 0
    async with db.transaction() as s:
        for model in (Agreement, LoopNote, Compliment):
            count = select(func.count()).select_from(model).where(model.member_id == member_id)
            total += int(await s.scalar(count) or 0)
    return total


async def _loop_rows(db: Database, cohort: int, member: int) -> None:
    async with db.transaction() as s:
        await AgreementRepo(s).create(
            cohort_id=cohort, member_id=member, text="Oefenen.", status="active", made_by="M",
            made_by_user_id=1, made_at=START, made_week=2, follow_up_week=4,
            share_workplace=False, outcome_applied=False, on_agenda=False,
        )  # fmt: skip
        await NoteRepo(s).create(cohort_id=cohort, member_id=member, subject="question:1",
                                 text="Besproken.", written_by="M", written_by_user_id=1,
                                 created_at=START)  # fmt: skip
        await ComplimentRepo(s).create(
            cohort_id=cohort, member_id=member, text="Goed zo!", written_by="M",
            written_by_user_id=1, created_at=START,
        )  # fmt: skip


async def test_stop_with_deletion_and_retention_remove_the_loop_rows(db: Database) -> None:
    async with db.transaction() as s:
        cohort = await make_cohort(s, plan=PLAN)
        anna = await add_student(s, cohort, "Anna de Vries", 8001)
        bram = await add_student(s, cohort, "Bram Bakker", 8002)
    await _loop_rows(db, cohort, anna)
    await _loop_rows(db, cohort, bram)

    async with db.transaction() as s:
        counts = await purge_in(s, START)  # nothing is older than the limit yet
    assert counts["agreements"] == counts["loop_notes"] == counts["compliments"] == 0

    async with db.transaction() as s:
        member = await MemberRepo(s).get(anna)
        assert member is not None
        await delete_student_data(s, member)
    assert await _rows_about(db, anna) == 0 and await _rows_about(db, bram) == 3

    async with db.transaction() as s:
        counts = await purge_in(s, START + timedelta(days=1))
    assert (counts["agreements"], counts["loop_notes"], counts["compliments"]) == (1, 1, 1)
    assert await _rows_about(db, bram) == 0


async def test_deletion_takes_a_message_being_sent_and_its_outcome_changes_nothing(
    db: Database,
) -> None:
    """A message about the student in flight at the moment of erasure goes too: left to the
    sender, it would be marked sent and keep her words."""
    async with db.transaction() as s:
        cohort = await make_cohort(s, plan=PLAN)
        anna = await add_student(s, cohort, "Anna de Vries", 8001)
        item = Queued(f"test:{anna}", 8001, "notice", Outgoing("Mag ik een andere stageplek?"),
                      cohort, member_id=anna)  # fmt: skip
        await queue(s, [item], START)
        await s.execute(update(OutboxMessage).values(status="sending"))
        [row_id] = list(await s.scalars(select(OutboxMessage.id)))
    async with db.transaction() as s:
        member = await MemberRepo(s).get(anna)
        assert member is not None
        await delete_student_data(s, member)
    async with db.transaction() as s:
        await OutboxRepo(s).mark_sent(row_id, 77, START)  # the sender's outcome, afterwards
        assert await s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
