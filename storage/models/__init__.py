"""The database schema (SQLAlchemy 2 declarative). Plain columns only: no pickled objects.

Every timestamp is stored as UTC; `UTCDateTime` makes SQLite (which keeps no zone) and
PostgreSQL return the same aware datetimes.

One module per area (`base`, `people`, `rounds`, `outbox`, `alerts`, `workplace`, `loop`,
`inbox`); every model is importable from `storage.models`, the only place the rest of storage
looks for them.
"""

from storage.models.alerts import Alert, AuditEntry, StudentQuestion
from storage.models.base import NAMING, Base, UTCDateTime, utcnow
from storage.models.inbox import InboxUpdate, InstanceLease
from storage.models.loop import Agreement, Compliment, LoopNote
from storage.models.outbox import OutboxMessage
from storage.models.people import Cohort, ConsentRefusal, Invite, Member, UserSetting
from storage.models.rounds import Answer, Participation, Prompt, Round
from storage.models.workplace import FieldSignal, Observation, Supervision

__all__ = [
    "NAMING",
    "Agreement",
    "Alert",
    "Answer",
    "AuditEntry",
    "Base",
    "Cohort",
    "Compliment",
    "ConsentRefusal",
    "FieldSignal",
    "InboxUpdate",
    "InstanceLease",
    "Invite",
    "LoopNote",
    "Member",
    "Observation",
    "OutboxMessage",
    "Participation",
    "Prompt",
    "Round",
    "StudentQuestion",
    "Supervision",
    "UTCDateTime",
    "UserSetting",
    "utcnow",
]
