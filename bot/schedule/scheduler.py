"""The weekly rhythm: opens every cohort's rounds on time, once.

The database is the source of truth. APScheduler (3.11, in-memory job store, nothing pickled)
only holds one cron job per distinct weekly time and zone ("mon 08:00" in Europe/Amsterdam),
whatever the number of cohorts that use it. When it fires, it reads the cohorts, asks
`bot.schedule.clock.latest_due` which moment just passed, and opens every (cohort, kind) due
then with `rounds.open_rounds`: a few transactions for 2,000 cohorts, not one each. The jobs
follow the cohorts table at `start()` and on every poll. The cron jobs, the catch-up at start,
`advance_to` (tests, accelerated demo) and `push` all end in the same bulk open, whose unique
constraint makes every round exist once even with several instances.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.plans import Plan
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
from bot.schedule.rounds import KINDS, Due, OpenedRound, open_rounds, record_skipped
from bot.schedule.timespec import WeeklyTime, cohort_zone, parse_weekly
from storage.db import Database
from storage.records import CohortRecord
from storage.repos import CohortRepo

log = logging.getLogger(__name__)
RoundCallback = Callable[[OpenedRound], Awaitable[None]]
TIME_FIELDS = {kind: f"{kind}_at" for kind in KINDS}
"""The cohort column that holds each kind's weekly time, e.g. reflection -> reflection_at."""


Slot = tuple[WeeklyTime, str]
"""A weekly time and the name of its zone: one APScheduler job each."""
Fire = tuple[CohortRecord, str, datetime]
"""A (cohort, kind) and the moment its round was due."""


def job_id(when: WeeklyTime, zone: str) -> str:
    """The id of the job that opens every round due at `when` in `zone`."""
    return f"weekly:{when}:{zone}"


@functools.cache
def _weekly(text: str) -> WeeklyTime:
    """Parsed once and shared: 2,000 cohorts at "mon 08:00" hold one WeeklyTime."""
    return parse_weekly(text)


def cohort_times(cohort: CohortRecord, *, quiet: bool = False) -> dict[str, WeeklyTime]:
    """Each kind's weekly time; a malformed one is logged and left out (the others still run)."""
    times = {}
    for kind, column in TIME_FIELDS.items():
        try:
            times[kind] = _weekly(getattr(cohort, column))
        except ValueError as exc:
            if not quiet:
                log.error("cohort %s: no %s round scheduled: %s", cohort.id, kind, exc)
    return times


def _signature(cohort: CohortRecord) -> int:
    """A hash of what the rounds of a cohort depend on; any difference catches it up again.
    Only the hash is kept per cohort: memory stays flat in the number of cohorts."""
    times = tuple(getattr(cohort, column) for column in TIME_FIELDS.values())
    return hash((cohort.timezone, times, cohort.schedule_version, cohort.plan_version,
                 cohort.start_date, cohort.observation_every))  # fmt: skip


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
        self._known: dict[int, int] = {}  # cohort id -> _signature, once caught up
        self._slots: dict[int, tuple[str, tuple[tuple[str, WeeklyTime], ...]]] = {}
        self._shapes: dict[Any, Any] = {}  # one shared tuple per distinct schedule
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
        """Reload the cohorts: catch up new or changed ones (as a restart would), forget
        deleted ones, and keep one job per weekly time and zone in use. Returns the ids of the
        cohorts caught up."""
        cohorts = await self._cohorts()
        changed = [c for c in cohorts if self._known.get(c.id) != _signature(c)]
        for gone in set(self._slots) - {c.id for c in cohorts}:
            self._slots.pop(gone)
            self._known.pop(gone, None)
            log.info("cohort %s is gone: its rounds are no longer timed", gone)
        for cohort in changed:
            self._slots[cohort.id] = self._shape(cohort)
        self._sync_jobs()
        try:
            _opened, failed = await self._catch_up(changed, self.clock.now())
        except Exception:  # not remembered as known: the next poll tries again
            log.exception("catching up the rounds of %s cohorts failed", len(changed))
            failed = {c.id for c in changed}
        for cohort in changed:
            if cohort.id in failed:
                self._known.pop(cohort.id, None)
            else:
                self._known[cohort.id] = _signature(cohort)
        return [c.id for c in changed]

    def next_run_time(self, cohort_id: int, kind: str) -> datetime | None:
        """When the job that opens the `kind` round of the cohort fires next, or None."""
        zone, times = self._slots.get(cohort_id, ("", ()))
        when = dict(times).get(kind)
        if self._scheduler is None or when is None:
            return None
        job = self._scheduler.get_job(job_id(when, zone))
        return None if job is None else job.next_run_time

    def _shape(self, cohort: CohortRecord) -> tuple[str, tuple[tuple[str, WeeklyTime], ...]]:
        """The cohort's zone and weekly times (the malformed left out, logged), as one tuple
        shared by every cohort with the same schedule."""
        times = tuple(cohort_times(cohort).items()) if cohort_zone(cohort) is not None else ()
        shape = (cohort.timezone, times)
        return self._shapes.setdefault(shape, shape)  # type: ignore[no-any-return]

    def _sync_jobs(self) -> None:
        """One job per (weekly time, zone) some cohort uses; a job nobody uses is removed."""
        if self._scheduler is None:
            return
        wanted = {job_id(w, z): (w, z) for z, times in self._slots.values() for _k, w in times}
        for job in self._scheduler.get_jobs():
            if job.id not in wanted:
                job.remove()
        for ident, (when, zone) in wanted.items():
            if self._scheduler.get_job(ident) is None:
                self._scheduler.add_job(
                    self._cron_job,
                    WallClockTrigger(when, ZoneInfo(zone)),
                    args=(when, zone),
                    id=ident,
                    name=f"the rounds due {when} in {zone}",
                )
        self._shapes = {shape: shape for shape in self._slots.values()}

    async def _cron_job(self, when: WeeklyTime, zone: str) -> None:
        """What APScheduler runs. The work is its own task, shielded, so that shutting the
        scheduler down (which cancels job wrappers) never cuts a round off halfway."""
        task = asyncio.create_task(self._fire_slot(when, zone))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            # only the scheduler's shutdown cancels this wrapper; shutdown() awaits the task
            if not self._closing:
                raise

    async def _fire_slot(self, when: WeeklyTime, zone: str) -> None:
        """Open every round due at the moment of `when` in `zone` that just passed, of the
        cohorts as they are now (one changed since the last poll is caught up by the next)."""
        if self._closing:
            return
        try:
            cohorts = await self._cohorts()
            now = self.clock.now()
            moment = latest_due(when, ZoneInfo(zone), now)
            fires = [(c, kind, moment) for c in cohorts if c.timezone == zone
                     for kind, w in cohort_times(c, quiet=True).items() if w == when]  # fmt: skip
            await self._fire(fires, now)
        except Exception:
            log.exception("opening the rounds due %s in %s failed", when, zone)

    # -- firing --------------------------------------------------------------------------

    async def run_due_now(self) -> list[OpenedRound]:
        """Catch up every cohort at the clock's now, as at start: for each kind the latest due
        moment is opened when within the grace period, else recorded as skipped."""
        now = self.clock.now()
        opened, _failed = await self._catch_up(await self._cohorts(), now)
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
        due = await self._due_between(self._mark, target)
        for moment, group in itertools.groupby(due, key=lambda fire: fire[2]):
            self._move_clock(moment)
            opened += (await self._fire(list(group), moment))[0]
        self._mark = max(self._mark, target)
        self._move_clock(target)
        return opened

    async def push(self, cohort: str | int, kind: str, week: int | None = None) -> on_demand.Pushed:
        """The module's `push` at the clock's now, telling on_round_opened when it opened one."""
        pushed = await on_demand.push(self.db, cohort, kind, week, now=self.clock.now())
        if pushed.created:
            await self._notify(pushed.opened)
        return pushed

    async def _catch_up(
        self, cohorts: list[CohortRecord], now: datetime
    ) -> tuple[list[OpenedRound], set[int]]:
        """For each kind of each cohort the latest due moment (`_fire` decides)."""
        fires = []
        for cohort in cohorts:
            zone = cohort_zone(cohort)
            if zone is not None:
                fires += [(cohort, kind, latest_due(when, zone, now))
                          for kind, when in cohort_times(cohort, quiet=True).items()]  # fmt: skip
        return await self._fire(fires, now)

    async def _fire(self, fires: list[Fire], now: datetime) -> tuple[list[OpenedRound], set[int]]:
        """The one path to scheduled rounds: their plan weeks, the grace check, and one bulk
        open of every round due. Returns the rounds created and the cohorts that failed."""
        weeks = await self._plan_weeks(fires)
        due = []
        for (cohort, kind, moment), week in zip(fires, weeks, strict=True):
            if week is None or not observes_in(cohort, kind, week):
                continue
            if now - moment > self.grace:
                await record_skipped(self.db, cohort.id, week, kind, moment)
            else:
                due.append(Due(cohort.id, week, kind, moment))
        cohorts = {cohort.id: cohort for cohort, _kind, _moment in fires}
        result = await open_rounds(self.db, due, now, cohorts=cohorts)
        result.rounds.sort(
            key=lambda r: (r.round.due_at, KINDS.index(r.round.kind), r.round.cohort_id)
        )
        for opened in result.rounds:
            await self._notify(opened)
        return result.rounds, {d.cohort_id for d in result.failed}

    async def _plan_weeks(self, fires: list[Fire]) -> list[int | None]:
        """The plan week of each fire's due day (None before the start or in a holiday), the
        plans read in one transaction."""
        weeks: list[int | None] = []
        plans: dict[int, Plan] = {}  # a cohort's own plan is a query: once per cohort
        async with self.db.transaction() as session:
            for cohort, _kind, moment in fires:
                day = moment.astimezone(ZoneInfo(cohort.timezone)).date()
                if day < cohort.start_date:
                    weeks.append(None)
                    continue
                if cohort.id not in plans:
                    plans[cohort.id] = await plan_for(session, cohort)
                week = plans[cohort.id].teaching_week(cohort.start_date, day)
                if week is None:
                    log.info("cohort %s: %s is in a holiday week, no round", cohort.id, day)
                weeks.append(week)
        return weeks

    async def _notify(self, opened: OpenedRound) -> None:
        if self.on_round_opened is None:
            return
        try:
            await self.on_round_opened(opened)
        except Exception:
            log.exception("on_round_opened failed for round %s", opened.round.id)

    async def _due_between(self, after: datetime, before: datetime) -> list[Fire]:
        due = []
        for cohort in await self._cohorts():
            zone = cohort_zone(cohort)
            if zone is None:
                continue
            for kind, when in cohort_times(cohort, quiet=True).items():
                due += [(cohort, kind, m) for m in due_moments(when, zone, after, before)]
        return sorted(due, key=lambda fire: (fire[2], KINDS.index(fire[1]), fire[0].id))

    def _move_clock(self, when: datetime) -> None:
        if isinstance(self.clock, FakeClock) and when > self.clock.now():
            self.clock.set(when)

    async def _cohorts(self) -> list[CohortRecord]:
        async with self.db.transaction() as session:
            return await CohortRepo(session).all()


__all__ = ["RoundScheduler", "job_id"]
