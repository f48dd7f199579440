"""The one registry of the tables that hold personal data: how a row links to a member, what
leaving with /stop does to it, and whether (and by which timestamp) retention purges it.

Erasure (`storage.repos.privacy`), retention (`storage.repos.retention`) and their tests read
this list; a test fails when a table with a member or Telegram user column is missing here, so
a new table is one entry below.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlalchemy import Table

from storage.models import (
    Alert,
    Answer,
    AuditEntry,
    Base,
    Invite,
    Member,
    OutboxMessage,
    Participation,
    Prompt,
    StudentQuestion,
    UserSetting,
)


class Erasure(Enum):
    """What `delete_student_data` does with a table's rows of the student."""

    DELETE = "delete"  # every row whose member column is the student goes
    OWN = "own"  # handled by its own rule (outbox copies, the member row, settings, audit)
    CASCADE = "cascade"  # the database's ON DELETE CASCADE removes them with the member row


@dataclass(frozen=True)
class PersonalTable:
    """One table with personal data."""

    model: type[Base]
    member_column: str | None  # the column that names the member (None: linked otherwise)
    erasure: Erasure
    # timestamp column by which retention purges rows older than the period; None: not by age
    retention_by: str | None
    # rows of a round due before the cut-off go too (their round is past the period)
    purge_with_round: bool = False
    # a student who left keeps a member row while rows of this table name them
    keeps_member: bool = False
    # retention purges only rows in these statuses (empty: any status)
    purge_statuses: tuple[str, ...] = ()

    @property
    def table(self) -> Table:
        return self.model.__table__  # type: ignore[return-value]

    @property
    def name(self) -> str:
        return self.table.name


PERSONAL_TABLES: tuple[PersonalTable, ...] = (
    PersonalTable(Answer, "member_id", Erasure.DELETE, "answered_at", True, True),
    PersonalTable(Participation, "member_id", Erasure.DELETE, None, True, True),
    PersonalTable(Prompt, "member_id", Erasure.DELETE, None, True, True),
    PersonalTable(StudentQuestion, "member_id", Erasure.DELETE, "asked_at", keeps_member=True),
    # resolved alerts only: open ones stay until they are resolved
    PersonalTable(
        Alert,
        "member_id",
        Erasure.DELETE,
        "resolved_at",
        keeps_member=True,
        purge_statuses=("resolved",),
    ),
    # finished rows only; they hold copies of alert and question texts
    PersonalTable(
        OutboxMessage,
        "member_id",
        Erasure.OWN,
        "created_at",
        purge_statuses=("sent", "failed", "unreachable"),
    ),
    PersonalTable(AuditEntry, "actor_user_id", Erasure.OWN, "at"),
    PersonalTable(UserSetting, "telegram_user_id", Erasure.OWN, None),
    PersonalTable(Member, None, Erasure.OWN, None),
    PersonalTable(Invite, "member_id", Erasure.CASCADE, None),
)


def erased_by_member() -> tuple[PersonalTable, ...]:
    """The tables whose rows of a student /stop deletes by their member column."""
    return tuple(t for t in PERSONAL_TABLES if t.erasure is Erasure.DELETE)


def keeping_member() -> tuple[PersonalTable, ...]:
    """The tables whose rows keep a stopped student's member row until retention removes them."""
    return tuple(t for t in PERSONAL_TABLES if t.keeps_member)


def registered(name: str) -> PersonalTable | None:
    return next((t for t in PERSONAL_TABLES if t.name == name), None)
