"""The weekly rhythm: opens every cohort's rounds on time, once.

The database is the source of truth. APScheduler (3.11, in-memory job store, nothing pickled)
only holds one cron job per (cohort, kind), rebuilt from the cohorts table at `start()` and
whenever a cohort's schedule changes. A job does not carry its due moment: when it fires it
asks `bot.schedule.clock.latest_due` which moment just passed, so the cron jobs, the catch-up
at start, `advance_to` (tests, accelerated demo) and `push` all end in the same `open_round`
call, whose unique constraint makes every round exist once even with several instances.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.plans.store import plan_for
from bot.schedule import on_demand
from bot.schedule.clock import (
    Clock,
    FakeClock,
    SystemClock,
    WallClockTrigger,
    due_moments,
    latest_due,
)
from bot.schedule.rounds import KINDS, OpenedRound, open_round, record_skipped
from bot.schedule.timespec import WeeklyTime, cohort_zone, parse_weekly
from storage.db import Database
from storage.records import CohortRecord
from storage.repos import CohortRepo

log = logging.getLogger(__name__)
RoundCallback = Callable[[OpenedRound], Awaitable[None]]
TIME_FIELDS = {kind: f"{kind}_at" for kind in KINDS}
"""The cohort column that holds each kind's weekly time, e.g. reflection -> reflection_at."""


def job_id(cohort_id: int, kind: str) -> str:
    return f"cohort:{cohort_id}:{kind}"


def cohort_times(cohort: CohortRecord) -> dict[str, WeeklyTime]:
    """Each kind's weekly time; a malformed one is logged and left out (the others still run)."""
    times = {}
    for kind, column in TIME_FIELDS.items():
        try:
            times[kind] = parse_weekly(getattr(cohort, column))
        except ValueError as exc:
            log.error("cohort %s: no %s round scheduled: %s", cohort.id, kind, exc)
    return times


@functools.cache
def shared_trigger(when: WeeklyTime, zone: ZoneInfo) -> WallClockTrigger:
    """One trigger per weekly time and zone, shared by the jobs of every cohort that uses it.

    A trigger is stateless (it only computes fire times) and a CronTrigger costs ~2.4 KB: with
    a trigger per job, 2,000 cohorts × 4 kinds took ~19 MB of every instance (bench/national.py)."""
    return WallClockTrigger(when, zone)


def _signature(cohort: CohortRecord) -> tuple[Any, ...]:
    """What the jobs of a cohort depend on; any difference rebuilds them."""
    times = tuple(getattr(cohort, column) for column in TIME_FIELDS.values())
    return (cohort.timezone, times, cohort.schedule_version, cohort.plan_version, cohort.start_date,
            cohort.observation_every)  # fmt: skip


def observes_in(cohort: CohortRecord, kind: str, week: int) -> bool:
    """Every other week (observation_every 2) the observation round runs in odd weeks only."""
    every = max(1, cohort.observation_every)
    return kind != "observation" or (week - 1) % every == 0


class ScheduleSettings(Protocol):
    """What the scheduler reads of the settings (the runtime's Settings has it)."""

    grace_hours: float


class RoundScheduler:
    """Opens the rounds of every cohort at their weekly times; see the module docstring."""

    def __init__(
        self,
        db: Database,
        settings: ScheduleSettings,
        *,
        clock: Clock | None = None,
        on_round_opened: RoundCallback | None = None,
        poll_seconds: float = 30,
    ) -> None:
        self.db = db
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.on_round_opened = on_round_opened
        self.poll_seconds = poll_seconds
        self.grace = timedelta(hours=settings.grace_hours)
        self._scheduler: AsyncIOScheduler | None = None
        self._known: dict[int, tuple[Any, ...]] = {}
        self._poll: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._closing = False
        self._running: set[asyncio.Task[None]] = set()
        self._mark: datetime | None = None  # how far advance_to/run_due_now have gone

    @property
    def scheduler(self) -> AsyncIOScheduler | None:
        """The APScheduler instance while started (for inspection; do not add jobs to it)."""
        return self._scheduler

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Build the jobs from the database, catch up what is due, and start polling."""
        if self._scheduler is not None:
            raise RuntimeError("the round scheduler is running already")
        self._closing = False
        self._stop.clear()
        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            # coalesce: a late wake-up (sleep, busy loop) runs a job once; no misfire limit:
            # the grace period in _fire decides, with the database, whether it is too late
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        self._scheduler.start()
        try:
            await self.refresh()  # every cohort is new now: jobs built, rounds caught up
        except BaseException:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
            raise
        self._mark = self.clock.now()
        self._poll = asyncio.create_task(self._poll_loop(), name="round-scheduler-poll")

    async def shutdown(self) -> None:
        """Stop polling and firing; waits for a round being opened to finish."""
        self._closing = True
        self._stop.set()
        if self._poll is not None:
            await self._poll  # it finishes its current refresh, then sees the stop
            self._poll = None
        if self._scheduler is not None:
            # the executor cancels its job wrappers; the shielded work in _running goes on
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
            # AsyncIOScheduler only queues its shutdown on the loop: let it run before we return
            await asyncio.sleep(0)
        if self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def _poll_loop(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.poll_seconds)
                return
            except TimeoutError:
                pass
            try:
                await self.refresh()
            except Exception:
                log.exception(
                    "reloading the cohorts failed; trying again in %ss", self.poll_seconds
                )

    # -- jobs ----------------------------------------------------------------------------

    async def refresh(self) -> list[int]:
        """Reload the cohorts: rebuild the jobs of new or changed ones (and catch them up, as a
        restart would), drop those of deleted ones. Returns the ids of the rebuilt cohorts."""
        cohorts = await self._cohorts()
        changed = [c for c in cohorts if self._known.get(c.id) != _signature(c)]
        for gone in set(self._known) - {c.id for c in cohorts}:
            self._remove_jobs(gone)
            del self._known[gone]
            log.info("cohort %s is gone: its round jobs are removed", gone)
        now = self.clock.now()
        for cohort in changed:
            self._install(cohort)
            try:
                await self._catch_up(cohort, now)
            except Exception:  # not remembered as known: the next poll tries again
                log.exception("catching up the rounds of cohort %s failed", cohort.id)
                self._known.pop(cohort.id, None)
            else:
                self._known[cohort.id] = _signature(cohort)
        return [c.id for c in changed]

    def next_run_time(self, cohort_id: int, kind: str) -> datetime | None:
        """When the job of (cohort, kind) fires next, or None without such a job."""
        job = self._scheduler.get_job(job_id(cohort_id, kind)) if self._scheduler else None
        return None if job is None else job.next_run_time

    def _install(self, cohort: CohortRecord) -> None:
        self._remove_jobs(cohort.id)
        zone = cohort_zone(cohort)
        if self._scheduler is None or zone is None:
            return
        for kind, when in cohort_times(cohort).items():
            self._scheduler.add_job(
                self._cron_job,
                shared_trigger(when, zone),
                args=(cohort.id, kind),
                id=job_id(cohort.id, kind),
                name=f"{kind} round of cohort {cohort.id} ({when}, {cohort.timezone})",
                replace_existing=True,
            )
        log.info("round jobs of cohort %s built (schedule v%s)", cohort.id, cohort.schedule_version)

    def _remove_jobs(self, cohort_id: int) -> None:
        if self._scheduler is None:
            return
        for kind in KINDS:
            if self._scheduler.get_job(job_id(cohort_id, kind)) is not None:
                self._scheduler.remove_job(job_id(cohort_id, kind))

    async def _cron_job(self, cohort_id: int, kind: str) -> None:
        """What APScheduler runs. The work is its own task, shielded, so that shutting the
        scheduler down (which cancels job wrappers) never cuts a round off halfway."""
        task = asyncio.create_task(self._fire_latest(cohort_id, kind))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            # only the scheduler's shutdown cancels this wrapper; shutdown() awaits the task
            if not self._closing:
                raise

    async def _fire_latest(self, cohort_id: int, kind: str) -> None:
        if self._closing:
            return
        try:
            async with self.db.transaction() as session:
                cohort = await CohortRepo(session).get(cohort_id)
            zone = None if cohort is None else cohort_zone(cohort)
            when = None if cohort is None else cohort_times(cohort).get(kind)
            if cohort is None or zone is None or when is None:
                return  # deleted or changed since the job was built; the poll catches up
            now = self.clock.now()
            await self._fire(cohort, kind, latest_due(when, zone, now), now)
        except Exception:
            log.exception("opening the %s round of cohort %s failed", kind, cohort_id)

    # -- firing --------------------------------------------------------------------------

    async def run_due_now(self) -> list[OpenedRound]:
        """Catch up every cohort at the clock's now, as at start: for each kind the latest due
        moment is opened when within the grace period, else recorded as skipped."""
        now = self.clock.now()
        opened = []
        for cohort in await self._cohorts():
            opened += await self._catch_up(cohort, now)
        self._mark = now
        return opened

    async def advance_to(self, target: datetime) -> list[OpenedRound]:
        """Fire, oldest first and on time, every round due after the last tick up to `target`.

        For tests and the accelerated demo: a FakeClock is moved to each due moment and then to
        `target`. The first call without `start()` begins with `run_due_now()`."""
        if target.tzinfo is None:
            raise ValueError("advance_to needs an aware datetime")
        if not isinstance(self.clock, FakeClock) and target > self.clock.now():
            raise ValueError("only a FakeClock can be advanced into the future")
        opened = await self.run_due_now() if self._mark is None else []
        assert self._mark is not None
        for moment, cohort, kind in await self._due_between(self._mark, target):
            self._move_clock(moment)
            result = await self._fire(cohort, kind, moment, moment)
            if result is not None:
                opened.append(result)
        self._mark = max(self._mark, target)
        self._move_clock(target)
        return opened

    async def push(self, cohort: str | int, kind: str, week: int | None = None) -> on_demand.Pushed:
        """The module's `push` at the clock's now, telling on_round_opened when it opened one."""
        pushed = await on_demand.push(self.db, cohort, kind, week, now=self.clock.now())
        if pushed.created:
            await self._notify(pushed.opened)
        return pushed

    async def _catch_up(self, cohort: CohortRecord, now: datetime) -> list[OpenedRound]:
        zone = cohort_zone(cohort)
        if zone is None:
            return []
        opened = []
        for kind, when in cohort_times(cohort).items():
            result = await self._fire(cohort, kind, latest_due(when, zone, now), now)
            if result is not None:
                opened.append(result)
        return opened

    async def _fire(
        self, cohort: CohortRecord, kind: str, due: datetime, now: datetime
    ) -> OpenedRound | None:
        """The one path to a scheduled round: its plan week, the grace check, open_round."""
        day = due.astimezone(ZoneInfo(cohort.timezone)).date()
        week = await self._plan_week(cohort, day)
        if week is None or not observes_in(cohort, kind, week):
            return None
        if now - due > self.grace:
            await record_skipped(self.db, cohort.id, week, kind, due)
            return None
        result = await open_round(self.db, cohort.id, week, kind, due_at=due, now=now)
        if not result.created:
            return None
        await self._notify(result)
        return result

    async def _plan_week(self, cohort: CohortRecord, day: date) -> int | None:
        if day < cohort.start_date:
            return None
        async with self.db.transaction() as session:
            plan = await plan_for(session, cohort)
        week = plan.teaching_week(cohort.start_date, day)
        if week is None:
            log.info("cohort %s: %s is in a holiday week, no round", cohort.id, day)
        return week

    async def _notify(self, opened: OpenedRound) -> None:
        if self.on_round_opened is None:
            return
        try:
            await self.on_round_opened(opened)
        except Exception:
            log.exception("on_round_opened failed for round %s", opened.round.id)

    async def _due_between(
        self, after: datetime, before: datetime
    ) -> list[tuple[datetime, CohortRecord, str]]:
        due = []
        for cohort in await self._cohorts():
            zone = cohort_zone(cohort)
            if zone is None:
                continue
            for kind, when in cohort_times(cohort).items():
                due += [(m, cohort, kind) for m in due_moments(when, zone, after, before)]
        return sorted(due, key=lambda item: (item[0], KINDS.index(item[2]), item[1].id))

    def _move_clock(self, when: datetime) -> None:
        if isinstance(self.clock, FakeClock) and when > self.clock.now():
            self.clock.set(when)

    async def _cohorts(self) -> list[CohortRecord]:
        async with self.db.transaction() as session:
            return await CohortRepo(session).all()


__all__ = ["RoundScheduler", "job_id"]
