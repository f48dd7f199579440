"""A rolling restart: SIGTERM to one of two webhook instances in the middle of a round.

A clean stop lets the outbox sender finish the requests it has in flight and record them
(docs/operations.md, "Signals, stopping and crashes"). Unlike a SIGKILL it leaves nothing in
doubt: the other instance delivers the rest, every student gets the round exactly once, no row
is counted as a repeat, and the stopping instance fails no send on its way out.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.schedule.on_demand import push as push_round
from storage.models import OutboxMessage
from tests.conftest import require_postgres
from tests.multi.helpers import postgres_world, webhook_runs
from tests.processes import SIGTERM, eventually
from tgsandbox import SentMessage

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(180)]

STUDENTS = 60
STOP_AT = 15  # deliveries seen before one instance gets SIGTERM
SECRET = "Rolling_restart_S3cret"
# Each sendMessage takes 0.5 s (and happens even if the client is gone): with two requests in
# flight per instance, the stopping instance has both of them under way when the signal comes.
SEND_DELAY = 0.5
SEND_FAILURE = re.compile(r"outbox \d+ \w+ (retry|failed|not marked)")


def is_expectations(message: SentMessage) -> bool:
    return (message.text or "").startswith("📋 Week 1:")


async def test_sigterm_during_delivery_sends_nothing_twice(tmp_path: Path) -> None:
    await require_postgres()
    async with postgres_world(tmp_path) as world:
        world.extra_env["MENTORBOT_SEND_RATE"] = "30"  # the bot's: the two share it
        api = world.api
        _, urls, runs = webhook_runs(2, SECRET)
        stopping, other = await world.start_together(*runs)
        hook = api.bot()
        hook.webhook_targets = urls
        cohort_id = await world.cohort()
        chats = {user.id for user in await world.students(cohort_id, STUDENTS)}

        def delivered() -> Counter[int]:
            seen = Counter[int]()
            for chat in chats:
                seen[chat] += sum(1 for m in hook.messages(chat) if is_expectations(m))
            return +seen

        api.faults.delay("sendMessage", SEND_DELAY)
        pushed = await push_round(world.db, "PW3A", "expectations", 1, now=datetime.now(UTC))
        assert pushed.opened.queued == STUDENTS
        await api.wait_until(lambda: sum(delivered().values()) >= STOP_AT, timeout=60)

        async with world.db.transaction() as s:
            in_flight = await s.scalar(
                select(func.count()).where(
                    OutboxMessage.status == "sending",
                    OutboxMessage.claimed_by.like(f"%:{stopping.pid}:%"),
                )
            )
        stopping.signal(SIGTERM)
        assert await stopping.exit_code(10) == 0
        assert sum(delivered().values()) < STUDENTS, "the stop came too late"

        await api.wait_until(lambda: len(delivered()) == STUDENTS, timeout=60)

        async def all_sent() -> bool:
            return await world.outbox_counts() == {"sent": STUDENTS}

        await eventually(all_sent, 30, "every outbox row sent, none pending or sending")
        final = delivered()
        duplicates = sum(n - 1 for n in final.values())
        repeats = await world.repeats()
        print(f"\nrolling stop: in flight at SIGTERM {in_flight}, duplicates {duplicates}, "
              f"repeats {repeats}, deliveries {sum(final.values())}")  # fmt: skip
        assert set(final) == chats
        # nothing in doubt after a clean stop: no duplicate, and none counted
        assert (duplicates, repeats) == (0, 0)
        # and no send failed on the way out (its requests finished before the HTTP client closed)
        failures = SEND_FAILURE.findall(stopping.log())
        assert failures == [], stopping.log()[-3000:]
        assert "mentorbot stopped" in stopping.log()
        other.signal(SIGTERM)
        assert await other.exit_code(10) == 0
        assert api.violations == []
