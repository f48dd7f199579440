"""The one registry of the tables that hold personal data: how a row links to a member, what
leaving with /stop does to it, and whether (and by which timestamp) retention purges it.

Erasure (`storage.repos.privacy`), retention (`storage.repos.retention`), the /mijngegevens
export's sections and their tests read this list; a test fails when a table with a member or
Telegram user column is missing here, so a new table is one entry below.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlalchemy import Table

from storage.models import (
    Agreement,
    Alert,
    Answer,
    AuditEntry,
    Base,
    Compliment,
    FieldSignal,
    InboxUpdate,
    Invite,
    LoopNote,
    Member,
    Observation,
    OutboxMessage,
    Participation,
    Prompt,
    StudentQuestion,
    Supervision,
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
    # the section of the /mijngegevens export that shows these rows; None: not the student's
    # own data to read (copies of messages, codes)
    exported_as: str | None
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
    PersonalTable(
        Answer, "member_id", Erasure.DELETE, retention_by="answered_at", exported_as="answers",
        purge_with_round=True, keeps_member=True,
    ),
    PersonalTable(
        Participation, "member_id", Erasure.DELETE, retention_by=None, exported_as="rounds",
        purge_with_round=True, keeps_member=True,
    ),
    PersonalTable(
        Prompt, "member_id", Erasure.DELETE, retention_by=None,
        exported_as="questions_sent_to_you", purge_with_round=True, keeps_member=True,
    ),
    PersonalTable(
        StudentQuestion, "member_id", Erasure.DELETE, retention_by="asked_at",
        exported_as="questions_to_mentor_team", keeps_member=True,
    ),
    # resolved alerts only: open ones stay until they are resolved
    PersonalTable(
        Alert, "member_id", Erasure.DELETE, retention_by="resolved_at",
        exported_as="alerts_about_you", keeps_member=True, purge_statuses=("resolved",),
    ),
    # finished rows only; they hold copies of alert and question texts
    PersonalTable(
        OutboxMessage, "member_id", Erasure.OWN, retention_by="created_at", exported_as=None,
        purge_statuses=("sent", "failed", "unreachable"),
    ),
    PersonalTable(
        AuditEntry, "actor_user_id", Erasure.OWN, retention_by="at",
        exported_as="viewed_by_mentor_team",
    ),
    PersonalTable(
        UserSetting, "telegram_user_id", Erasure.OWN, retention_by=None, exported_as="settings"
    ),
    PersonalTable(Member, None, Erasure.OWN, retention_by=None, exported_as="membership"),
    PersonalTable(Invite, "member_id", Erasure.CASCADE, retention_by=None, exported_as=None),
    # the workplace's view: named by the student it is about (the werkbegeleider's own rows are
    # erased by `WerkbegeleiderRepo.delete_werkbegeleider`); the optional line is a row too
    PersonalTable(
        Observation, "student_id", Erasure.DELETE, retention_by="updated_at",
        exported_as="workplace_observations_about_you", purge_with_round=True, keeps_member=True,
    ),
    # who supervises whom; an ended link goes after the period, a current one stays
    PersonalTable(
        Supervision, "student_id", Erasure.CASCADE, retention_by="ended_at", exported_as=None
    ),
    # /signaal from werkbegeleiders and mentors (never from students)
    PersonalTable(
        FieldSignal, "member_id", Erasure.DELETE, retention_by="sent_at", exported_as=None
    ),
    # bot.loop: learning agreements (with the student's outcome), meeting notes, compliments
    PersonalTable(
        Agreement, "member_id", Erasure.DELETE, retention_by="made_at",
        exported_as="agreements_with_you", keeps_member=True,
    ),
    PersonalTable(
        LoopNote, "member_id", Erasure.DELETE, retention_by="created_at",
        exported_as="meeting_notes_about_you", keeps_member=True,
    ),
    PersonalTable(
        Compliment, "member_id", Erasure.DELETE, retention_by="created_at",
        exported_as="compliments_to_you", keeps_member=True,
    ),
    # raw updates as Telegram sent them (names, texts), keyed by the Telegram user (or chat):
    # the inbox deletes them itself a day after they were handled (parked ones after a week)
    PersonalTable(
        InboxUpdate, "user_key", Erasure.OWN, retention_by="received_at", exported_as=None
    ),
)  # fmt: skip


def erased_by_member() -> tuple[PersonalTable, ...]:
    """The tables whose rows of a student /stop deletes by their member column."""
    return tuple(t for t in PERSONAL_TABLES if t.erasure is Erasure.DELETE)


def keeping_member() -> tuple[PersonalTable, ...]:
    """The tables whose rows keep a stopped student's member row until retention removes them."""
    return tuple(t for t in PERSONAL_TABLES if t.keeps_member)


def registered(name: str) -> PersonalTable | None:
    return next((t for t in PERSONAL_TABLES if t.name == name), None)
