"""Deleting what is older than the retention period, table by table as the registry in
`storage.personal_data` says. Every statement is a plain DELETE with a cut-off, so running it
twice, or on two instances at once, deletes nothing extra."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select

from storage.db import Session
from storage.models import Member, Observation, Round
from storage.personal_data import PERSONAL_TABLES, PersonalTable, keeping_member


class RetentionRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def purge(self, limit: datetime) -> dict[str, int]:
        """Delete rows past `limit`; rows deleted per table, then `stopped_members`."""
        old_rounds = select(Round.id).where(Round.due_at < limit).scalar_subquery()
        counts: dict[str, int] = {}
        for table in PERSONAL_TABLES:
            where = _expired(table, limit, old_rounds)
            if where is not None:
                counts[table.name] = await self._delete(delete(table.table).where(where))
        counts["stopped_members"] = await self._delete(_stopped_members_without_data(limit))
        return counts

    async def _delete(self, statement: Any) -> int:
        result = await self.session.execute(statement.execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)


def _expired(table: PersonalTable, limit: datetime, old_rounds: Any) -> Any:
    """The rows of this table past the period, or None when retention leaves it alone."""
    columns = table.table.c
    by_age = []
    if table.retention_by is not None:
        by_age.append(columns[table.retention_by] < limit)
    if table.purge_with_round:
        by_age.append(columns["round_id"].in_(old_rounds))
    if not by_age:
        return None
    where = or_(*by_age)
    if table.purge_statuses:
        where = and_(columns["status"].in_(table.purge_statuses), where)
    return where


def _stopped_members_without_data(limit: datetime) -> Any:
    left_behind = [
        exists().where(t.table.c[t.member_column or "member_id"] == Member.id)
        for t in keeping_member()
    ]
    # a werkbegeleider who left keeps their row while their observations are kept
    left_behind.append(exists().where(Observation.werkbegeleider_id == Member.id))
    return delete(Member).where(
        Member.role.in_(("student", "werkbegeleider")),
        Member.status == "stopped",
        or_(Member.joined_at.is_(None), Member.joined_at < limit),
        and_(*(~clause for clause in left_behind)),
    )
