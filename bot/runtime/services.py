"""The long-lived services of a running bot, created in post_init and closed in post_shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta

from telegram import Bot

from bot import metrics
from bot.gaps.cache import GapCache
from bot.loop.followup import check_alerts
from bot.metrics import ALERTS_RAISED
from bot.outbox.queue import Outgoing
from bot.outbox.sender import OutboxSender, default_instance_id
from bot.outbox.share import RateShare
from bot.outbox.team import notify_team, team_language
from bot.people.retention import purge_expired
from bot.runtime.config import Settings
from bot.runtime.inbox import Inbox, Process
from bot.runtime.lease import LeaseKeeper
from bot.schedule.clock import Clock, SystemClock
from bot.schedule.rounds import OpenedRound
from bot.schedule.scheduler import RoundScheduler
from bot.texts import t
from bot.trends import is_report_day, queue_monthly_reports
from storage.db import Database
from storage.records import OutboxItem, Reaped
from storage.repos import MemberRepo

log = logging.getLogger(__name__)

# Seconds a queued alert check waits before it takes its cohort's turn: a class answering
# together completes within moments, and every completion meanwhile joins this one check.
ALERT_CHECK_GATHER = 0.1


class Services:
    """Database, lease, inbox, outbox sender and scheduler, started and stopped together.

    The lease comes first and goes last: the sender's and the inbox's claims carry its id, and
    they must be finished (or recorded) before it is given up."""

    def __init__(
        self,
        settings: Settings,
        bot: Bot,
        clock: Clock | None = None,
        process: Process | None = None,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.db = Database(settings.database_url)
        self.instance_id = default_instance_id()
        self.lease = LeaseKeeper(
            self.db, self.instance_id, ttl=settings.lease_ttl, on_reaped=self.reaped
        )
        self.inbox = Inbox(self.db, bot, self.instance_id, process) if process else None
        self.sender = OutboxSender(
            self.db,
            bot,
            rate=settings.send_rate,
            per_chat_rate=settings.per_chat_rate,
            paid_broadcast=settings.paid_broadcast,
            stale_after=timedelta(seconds=settings.outbox_stale_after),
            instance_id=self.instance_id,
            on_unreachable=self.member_unreachable,
        )
        self.rate_share = RateShare(self.sender.pacer, settings.send_rate, self.lease)
        self._sharing: asyncio.Task[None] | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self._evaluating: dict[int, asyncio.Lock] = {}
        self._alert_checks: set[asyncio.Task[None]] = set()  # queued by `check_alerts_later`
        # per cohort, the queued check that has not begun to read yet
        self._alerts_queued: dict[int, asyncio.Task[None]] = {}
        # closed rounds of recent cohorts, for the per-answer check; its entries frozen out of
        # the full garbage collections (`GapCache.settle`)
        self.gap_cache = GapCache(freeze=True)
        self.scheduler = RoundScheduler(
            self.db, settings, clock=self.clock, on_round_opened=self.round_opened
        )

    async def start(self, *, scheduler: bool = True) -> None:
        await self.lease.start()
        if self.settings.send_headroom is not None:
            log.warning("MENTORBOT_SEND_HEADROOM is deprecated and ignored: replies go first")
        await self.rate_share.refresh()
        self._sharing = asyncio.create_task(self.rate_share.run(), name="rate-share")
        self.sender.start()
        if self.inbox is not None:
            self.inbox.start()
        if scheduler:
            await self.scheduler.start()
            self._housekeeping = asyncio.create_task(self._daily(), name="housekeeping")

    async def stop_work(self) -> None:
        """Stop opening rounds and sending; the requests in flight finish. Runs while the bot's
        HTTP client is still open (post_stop), so nothing in flight is cut and sent twice."""
        if self.inbox is not None:
            await self.inbox.stop()
        await self.alert_checks_done()  # what they raise goes out with the sender
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
            self._housekeeping = None
        await self.scheduler.shutdown()
        await self.sender.stop()
        if self._sharing is not None:
            self._sharing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sharing
            self._sharing = None
        await self.lease.stop()

    async def stop(self) -> None:
        """Stop the work (if still running) and close the database."""
        await self.stop_work()
        await self.db.dispose()

    def reaped(self, reaped: Reaped) -> None:
        """A dead instance's work was taken back: count its possible repeats, go at it now."""
        metrics.OUTBOX_REPEATS.inc(reaped.outbox)
        metrics.INBOX_PARKED.inc(reaped.parked)
        self.sender.wake()
        if self.inbox is not None and reaped.inbox:  # not at its next poll: users wait on these
            self.inbox.wake()
        if self.inbox is not None:
            self.inbox.wake()

    async def _daily(self) -> None:
        """Once at start and then every day: delete what is past the retention period."""
        while True:
            try:
                purged = await purge_expired(self.db, self.settings, self.clock.now())
                if purged:
                    log.info("retention purged rows=%s", purged)
            except Exception:  # retried tomorrow; the bot keeps running
                log.exception("retention purge failed")
            await self.monthly_reports()
            await asyncio.sleep(24 * 3600)

    async def monthly_reports(self) -> None:
        """On the first Monday of a month, the regiegroep's report (once per month: the
        outbox dedupe key carries the month, so restarts and other instances add nothing)."""
        now = self.clock.now()
        if not is_report_day(now.astimezone(self.settings.tz).date()):
            return
        try:
            async with self.db.transaction() as session:
                queued = await queue_monthly_reports(session, now)
        except Exception:
            log.exception("monthly observer reports failed")
            return
        if queued:
            self.sender.wake()

    async def round_opened(self, opened: OpenedRound) -> None:
        """New outbox rows exist: let the sender look now. A round that closed on the way is
        the moment to check the cohort's gaps (silence shows only when a round closes)."""
        if opened.closed_round_ids:
            await self.evaluate_alerts(opened.round.cohort_id)
        self.sender.wake()

    def check_alerts_later(self, cohort_id: int) -> None:
        """Queue `evaluate_alerts` in the background: a student's reply must not wait for
        the cohort's alert check (its errors are logged there; `stop_work` waits for it).

        Coalesced per cohort: while a check of the cohort is queued and has not begun to read,
        a new request adds nothing, because that check reads everything committed before it
        starts (the caller's answer is committed already). A class finishing together costs a
        check or two, not one per student; an answer committed once a check has begun to read
        queues the next one."""
        if cohort_id in self._alerts_queued:
            return
        task = asyncio.create_task(self._queued_check(cohort_id), name=f"alerts-{cohort_id}")
        self._alerts_queued[cohort_id] = task
        self._alert_checks.add(task)
        task.add_done_callback(self._alert_checks.discard)
        task.add_done_callback(lambda done: self._unqueue(cohort_id, done))

    def _unqueue(self, cohort_id: int, task: asyncio.Task[None]) -> None:
        """`task` no longer stands for the cohort's next check: it has begun to read, or it
        ended without reading (cancelled before its turn)."""
        if self._alerts_queued.get(cohort_id) is task:
            del self._alerts_queued[cohort_id]

    async def _queued_check(self, cohort_id: int) -> None:
        """The queued check: a moment for more of the class's answers, then, once it holds
        the cohort's turn, out of the queue (what is committed after that needs a new check)
        and the check."""
        task = asyncio.current_task()
        assert task is not None
        await asyncio.sleep(ALERT_CHECK_GATHER)
        await self.evaluate_alerts(cohort_id, before_read=lambda: self._unqueue(cohort_id, task))

    async def alert_checks_done(self) -> None:
        """Wait for the alert checks queued so far (their errors are logged, not raised)."""
        while self._alert_checks:
            await asyncio.gather(*self._alert_checks, return_exceptions=True)

    async def evaluate_alerts(
        self, cohort_id: int, before_read: Callable[[], None] | None = None
    ) -> None:
        """Decide alerts from stored answers, after the answer's transaction
        (`bot.loop.followup.check_alerts`: one read, a transaction only to write). One
        evaluation per cohort at a time in this process: students finishing together would
        otherwise decide from each other's half-seen state (other instances are kept apart by
        the unique open alert per fingerprint). `before_read` runs once the cohort's turn has
        come, just before the check reads."""
        lock = self._evaluating.setdefault(cohort_id, asyncio.Lock())
        try:
            async with lock:
                if before_read is not None:
                    before_read()
                raised = await check_alerts(self.db, cohort_id, self.clock.now(), self.gap_cache)
        except Exception:  # an alert can be decided again later; never lose the answer flow
            log.exception("alert evaluation failed cohort=%s", cohort_id)
            return
        finally:
            self.gap_cache.settle()  # a new entry: frozen once its read is over
        if raised:
            ALERTS_RAISED.inc(len(raised))
            self.sender.wake()

    async def member_unreachable(self, item: OutboxItem) -> None:
        """A student blocked the bot: mark them and tell the mentor team, once."""
        if item.member_id is None:
            return
        now = self.clock.now()
        async with self.db.transaction() as session:
            member = await MemberRepo(session).get(item.member_id)
            if member is None or member.role != "student":
                return
            await MemberRepo(session).set_status(member.id, "unreachable")
            lang = await team_language(session, member.cohort_id)
            text = t("team.unreachable", lang, name=member.name)
            await notify_team(
                session, member.cohort_id, f"unreachable:{member.id}", Outgoing(text), now
            )
        log.warning("member unreachable member=%s cohort=%s", member.id, member.cohort_id)
        self.sender.wake()
