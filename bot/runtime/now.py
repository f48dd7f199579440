"""The process's clock for code that has no scheduler at hand (handlers, services).

Production uses the system clock; the accelerated demo swaps in its FakeClock so that
answers, alerts and audits carry the simulated time. One bot runs per process, so one clock."""

from __future__ import annotations

from datetime import datetime

from bot.schedule.clock import Clock, SystemClock

_current: list[Clock] = [SystemClock()]


def now() -> datetime:
    """The current time (aware, UTC) of the process clock."""
    return _current[0].now()


def use_clock(clock: Clock) -> None:
    _current[0] = clock


def reset_clock() -> None:
    _current[0] = SystemClock()
