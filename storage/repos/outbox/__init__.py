"""The outbox table's repository (`repo`) and its hot statements, built once (`statements`)."""

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
    "PENDING",
    "SENDING",
    "SENT",
    "STATUSES",
    "UNREACHABLE",
    "OutboxRepo",
]
