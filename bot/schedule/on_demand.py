"""Pushing a round now, on a coordinator's or mentor's word: the same `open_round` as the
scheduler, for the current (or a named, begun) plan week; idempotent per week."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.people.admin import AdminError, find_cohort
from bot.plans.store import plan_for
from bot.schedule.rounds import ANSWERED_KINDS, KINDS, OpenedRound, open_round
from bot.schedule.timespec import cohort_zone
from storage.db import Database
from storage.records import CohortRecord, RoundRecord
from storage.repos.rounds import RoundRepo


class PushError(AdminError):
    """A push that cannot be done; the message says why in one line."""


@dataclass(frozen=True)
class Pushed:
    cohort: CohortRecord
    week: int
    kind: str
    opened: OpenedRound

    @property
    def created(self) -> bool:
        """False when that round existed already: nothing was queued this time."""
        return self.opened.created

    @property
    def round(self) -> RoundRecord:
        return self.opened.round


async def push(
    db: Database, cohort: str | int, kind: str, week: int | None = None, *, now: datetime
) -> Pushed:
    """Open the `kind` round of plan week `week` (default: the current one) now; idempotent."""
    if kind not in KINDS:
        raise PushError(f"unknown round kind {kind!r}: use one of {', '.join(KINDS)}")
    async with db.transaction() as session:
        try:
            record = await find_cohort(session, cohort)
        except AdminError as exc:  # the callers refuse a push by its PushError
            raise PushError(str(exc)) from None
        plan = await plan_for(session, record)
        existing = await RoundRepo(session).of_cohort(record.id, kind)
    zone = cohort_zone(record)
    if zone is None:
        raise PushError(f"cohort {record.name!r} has an unknown time zone {record.timezone!r}")
    week = _push_week(plan.teaching_week, record, now.astimezone(zone).date(), week)
    later = [r.week for r in existing if r.week > week and r.status != "skipped"]
    if later and kind in ANSWERED_KINDS:
        # opening a round closes the open one of its kind: an older week would close a newer
        raise PushError(
            f"the {kind} round of week {max(later)} exists already; "
            f"pushing week {week} would close it"
        )
    if any(r.week == week and r.status == "skipped" for r in existing):
        await _discard_skipped(db, record.id, week, kind)
    opened = await open_round(db, record.id, week, kind, due_at=now, now=now)
    return Pushed(record, week, kind, opened)


def _push_week(
    teaching_week: Callable[[date, date], int | None],
    cohort: CohortRecord,
    today: date,
    week: int | None,
) -> int:
    """The plan week to push: `week` if it has begun, else the current one."""
    current, day = None, today
    while current is None and day >= cohort.start_date - timedelta(days=6):
        current, day = teaching_week(cohort.start_date, day), day - timedelta(days=7)
    if current is None:
        raise PushError(f"cohort {cohort.name!r} has not started yet (start {cohort.start_date})")
    if week is None:
        if teaching_week(cohort.start_date, today) is None:
            raise PushError(
                f"{today} is in a holiday week of {cohort.name!r}; name the week "
                f"(the last one was week {current})"
            )
        return current
    if not 1 <= week <= current:
        raise PushError(f"week {week} has not begun: the current plan week is {current}")
    return week


async def _discard_skipped(db: Database, cohort_id: int, week: int, kind: str) -> None:
    """Remove the marker of a round skipped as too late so that the coordinator can send it
    after all. The marker has no messages or answers; only a skipped one is touched."""
    async with db.transaction() as session:
        await RoundRepo(session).discard_skipped(cohort_id, week, kind)
