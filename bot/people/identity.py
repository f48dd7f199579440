"""Who is talking: a Telegram user's memberships, role and language, read per update."""

from __future__ import annotations

from dataclasses import dataclass

from bot.texts import normalise_language
from storage.db import Session
from storage.records import MemberRecord
from storage.repos import MemberRepo


@dataclass(frozen=True)
class Identity:
    user_id: int
    language: str
    memberships: tuple[MemberRecord, ...]

    def active(self, role: str) -> list[MemberRecord]:
        return [m for m in self.memberships if m.role == role and m.is_active]

    @property
    def student(self) -> MemberRecord | None:
        """The active student membership (a student is in one class)."""
        students = self.active("student")
        return students[-1] if students else None

    @property
    def is_mentor(self) -> bool:
        return bool(self.active("mentor"))

    @property
    def is_observer(self) -> bool:
        return bool(self.active("observer"))

    @property
    def is_enrolled(self) -> bool:
        return any(m.is_active for m in self.memberships)

    def mentor_cohorts(self) -> list[int]:
        return [m.cohort_id for m in self.active("mentor")]

    def in_cohort(self, cohort_id: int) -> MemberRecord | None:
        return next((m for m in self.memberships if m.cohort_id == cohort_id and m.is_active), None)


async def load_identity(session: Session, user_id: int) -> Identity:
    memberships, language = await MemberRepo(session).of_user_with_language(user_id)
    return Identity(
        user_id=user_id,
        language=normalise_language(language),
        memberships=tuple(memberships),
    )
