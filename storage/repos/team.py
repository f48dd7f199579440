"""What reaching a cohort's mentor team needs, in one statement: the cohort's linked group
chat and its active mentors' chats and chosen languages. A raised alert needed both the
team's language and its chats: four statements (the cohort, the mentors twice, their
settings), each a round trip on the per-answer gap check (docs/benchmarks.md §3)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Cohort, Member, UserSetting


@dataclass(frozen=True)
class TeamMember:
    telegram_user_id: int | None
    chat_id: int | None
    language: str | None  # None: no choice stored


@dataclass(frozen=True)
class TeamContacts:
    group_chat_id: int | None
    mentors: list[TeamMember]  # active, ordered by name then id


# A cohort's active mentors; constants written into the SQL (the gap check's statement reads
# them too, with the cohort's id its only parameter: storage.repos.gap_query).
ACTIVE_MENTOR = and_(
    Member.role == literal_column("'mentor'"), Member.status == literal_column("'active'")
)

# built once: building a statement (and its cache key) costs about as much as running it.
# Cohort outer-joined to its mentors: a cohort without active mentors is still one row.
_CONTACTS = (
    select(
        Cohort.group_chat_id,
        Member.id,
        Member.telegram_user_id,
        Member.chat_id,
        UserSetting.language,
    )
    .select_from(Cohort)
    .outerjoin(
        Member,
        and_(Member.cohort_id == Cohort.id, ACTIVE_MENTOR),
    )
    .outerjoin(UserSetting, UserSetting.telegram_user_id == Member.telegram_user_id)
    .where(Cohort.id == bindparam("cohort"))
    .order_by(Member.name, Member.id)
)


class TeamRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def contacts(self, cohort_id: int) -> TeamContacts:
        """The cohort's team contacts; no group chat and no mentors for an unknown cohort."""
        rows = (await self.session.execute(_CONTACTS, {"cohort": cohort_id})).all()
        if not rows:
            return TeamContacts(None, [])
        mentors = [
            TeamMember(user_id, chat_id, language)
            for _group, member_id, user_id, chat_id, language in rows
            if member_id is not None  # not the outer join's row of a team without mentors
        ]
        return TeamContacts(rows[0].group_chat_id, mentors)
