"""The outbox table's repository (`repo`), its hot statements, built once (`statements`),
and messages queued with the row they name (`after`)."""

from storage.repos.outbox.after import NEW_ID, queue_after, queue_after_each
from storage.repos.outbox.repo import OutboxRepo
from storage.repos.outbox.statements import (
    FAILED,
    KINDS,
    PENDING,
    SENDING,
    SENT,
    STATUSES,
    UNREACHABLE,
)

__all__ = [
    "FAILED",
    "KINDS",
    "NEW_ID",
    "PENDING",
    "SENDING",
    "SENT",
    "STATUSES",
    "UNREACHABLE",
    "OutboxRepo",
    "queue_after",
    "queue_after_each",
]
