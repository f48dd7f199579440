"""The queued alert checks of completed reflections (`Services.check_alerts_later`): one queued
check per cohort reads every answer committed before it starts, so requests meanwhile add
nothing; an answer committed once a check has begun to read queues the next check."""

from __future__ import annotations

import asyncio
import gc
from datetime import datetime
from typing import Any

import pytest
from telegram import Bot

from bot.runtime import services as services_module
from bot.runtime.services import Services
from tests.conftest import TEST_TOKEN, make_settings


class FakeCheck:
    """`check_alerts` that notes which of the committed answers each check saw."""

    def __init__(self) -> None:
        self.committed: list[int] = []  # answers "committed", in order
        self.seen: list[tuple[int, list[int]]] = []  # per check: cohort, answers it read
        self.reading = asyncio.Event()  # set while a check is between its read and its end
        self.release = asyncio.Event()

    async def __call__(self, _db: Any, cohort_id: int, _now: datetime, _cache: Any) -> list[int]:
        self.seen.append((cohort_id, list(self.committed)))
        self.reading.set()
        await self.release.wait()
        self.reading.clear()
        return []


@pytest.fixture
async def services(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(services_module, "ALERT_CHECK_GATHER", 0)
    live = Services(make_settings(sqlite_url, "http://127.0.0.1:9"), Bot(TEST_TOKEN))
    yield live
    await live.db.dispose()


def fake(monkeypatch: pytest.MonkeyPatch) -> FakeCheck:
    check = FakeCheck()
    monkeypatch.setattr(services_module, "check_alerts", check)
    return check


async def test_a_class_finishing_together_costs_one_check(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = fake(monkeypatch)
    check.release.set()
    for student in range(25):  # each answer committed, then its check requested
        check.committed.append(student)
        services.check_alerts_later(7)
    await services.alert_checks_done()
    assert check.seen == [(7, list(range(25)))]


async def test_an_answer_after_a_check_began_gets_a_check_of_its_own(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = fake(monkeypatch)
    check.committed.append(1)
    services.check_alerts_later(7)
    await check.reading.wait()  # the first check has read: answer 2 comes too late for it
    check.committed.append(2)
    services.check_alerts_later(7)
    check.committed.append(3)
    services.check_alerts_later(7)  # coalesced with the one just queued
    services.check_alerts_later(8)  # another cohort: its own check
    check.release.set()
    await services.alert_checks_done()
    assert sorted(check.seen) == [(7, [1]), (7, [1, 2, 3]), (8, [1, 2, 3])]


async def test_a_cancelled_queued_check_does_not_block_the_next(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = fake(monkeypatch)
    check.release.set()
    services.check_alerts_later(7)
    for task in list(services._alert_checks):
        task.cancel()
    await services.alert_checks_done()
    check.committed.append(1)
    services.check_alerts_later(7)
    await services.alert_checks_done()
    assert check.seen == [(7, [1])]


@pytest.mark.parametrize("fails", [False, True])
async def test_an_entry_a_check_built_is_frozen_once_the_check_is_over(
    services: Services, monkeypatch: pytest.MonkeyPatch, fails: bool
) -> None:
    """The running bot's gap cache (`GapCache.settle`): frozen after the check's read, not
    during it, and also when the check failed after building the entry."""
    gc.unfreeze()
    during: list[int] = []

    async def check(_db: Any, cohort_id: int, _now: datetime, cache: Any) -> list[int]:
        cache.put(("db", cohort_id), object())  # what gap_check does with a new entry
        during.append(gc.get_freeze_count())
        if fails:
            raise RuntimeError("the check failed after building its entry")
        return []

    monkeypatch.setattr(services_module, "check_alerts", check)
    services.check_alerts_later(7)
    await services.alert_checks_done()
    assert during == [0]
    assert gc.get_freeze_count() > 0
    assert services.gap_cache.settle() is False  # nothing new since
