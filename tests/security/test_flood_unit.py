"""The token bucket of the per-user flood limit (bot/runtime/flood.py), on an injected clock."""

from __future__ import annotations

import pytest

from bot.runtime.flood import BURST, NOTICE_EVERY, PER_SECOND, PRUNE_EVERY, FloodLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def limiter(**kw: float) -> tuple[FloodLimiter, FakeClock]:
    clock = FakeClock()
    return FloodLimiter(clock=clock, **kw), clock  # type: ignore[arg-type]


def test_the_numbers_let_a_quick_student_through() -> None:
    # a burst of double taps and corrections, then one update a second for a long time
    assert BURST >= 10 and PER_SECOND >= 0.5 and NOTICE_EVERY == 60.0
    flood, clock = limiter()
    for _ in range(10):
        assert flood.hit(1).allowed
    for _ in range(600):
        clock.advance(1.0 / PER_SECOND)
        assert flood.hit(1).allowed


def test_a_burst_is_allowed_then_refused_and_told_once() -> None:
    flood, clock = limiter(burst=5, per_second=1.0)
    verdicts = [flood.hit(7) for _ in range(20)]
    assert [v.allowed for v in verdicts] == [True] * 5 + [False] * 15
    assert [v.notify for v in verdicts[5:]] == [True] + [False] * 14
    clock.advance(30)  # refilled, then flooding again within the minute: refused quietly
    assert all(flood.hit(7).allowed for _ in range(5))
    again = flood.hit(7)
    assert not again.allowed and not again.notify
    clock.advance(0.5)
    assert not flood.hit(7).allowed
    clock.advance(60)
    assert all(flood.hit(7).allowed for _ in range(5))
    told = flood.hit(7)
    assert not told.allowed and told.notify  # a minute after the last notice: told again


def test_tokens_refill_at_the_rate_and_never_above_the_burst() -> None:
    flood, clock = limiter(burst=4, per_second=2.0)
    assert all(flood.hit(1).allowed for _ in range(4))
    assert not flood.hit(1).allowed
    clock.advance(0.5)  # one token back
    assert flood.hit(1).allowed
    assert not flood.hit(1).allowed
    clock.advance(3600)  # a long pause refills to the burst, not beyond
    assert [flood.hit(1).allowed for _ in range(5)] == [True] * 4 + [False]


def test_a_refused_update_takes_no_token() -> None:
    flood, clock = limiter(burst=2, per_second=1.0)
    flood.hit(1), flood.hit(1)
    for _ in range(100):  # hammering does not push the user further into debt
        assert not flood.hit(1).allowed
    clock.advance(1.0)
    assert flood.hit(1).allowed


def test_users_have_their_own_buckets() -> None:
    flood, _clock = limiter(burst=3, per_second=0.1)
    for _ in range(10):
        flood.hit(1)
    assert not flood.hit(1).allowed
    assert all(flood.hit(2).allowed for _ in range(3))


def test_the_language_is_remembered_for_later_refusals() -> None:
    flood, _clock = limiter(burst=1, per_second=1.0)
    flood.hit(1)
    first = flood.hit(1)
    assert first.language is None
    flood.remember_language(1, "en")
    assert flood.hit(1).language == "en"
    flood.remember_language(99, "en")  # unknown user: nothing to remember it with
    assert len(flood) == 1


def test_a_clock_going_backwards_does_not_add_tokens() -> None:
    flood, clock = limiter(burst=2, per_second=1.0)
    flood.hit(1), flood.hit(1)
    clock.advance(-100)
    assert not flood.hit(1).allowed


def test_idle_buckets_are_pruned_so_memory_stays_bounded() -> None:
    flood, clock = limiter(burst=5, per_second=1.0)
    for user in range(PRUNE_EVERY - 1):
        flood.hit(user)
    assert len(flood) == PRUNE_EVERY - 1
    clock.advance(10)  # everyone is full again
    flood.hit(-1)  # the PRUNE_EVERY-th update sweeps
    assert len(flood) == 1
    # a user who was told to slow down keeps the bucket until the notice expires
    for _ in range(7):
        flood.hit(5)
    clock.advance(10)
    assert flood.prune() == 1 and len(flood) == 1  # -1 went, 5 stays
    clock.advance(NOTICE_EVERY)
    assert flood.prune() == 1 and len(flood) == 0


@pytest.mark.parametrize(
    "kw", [{"burst": 0}, {"per_second": 0}, {"per_second": -1}, {"notice_every": -1}]
)
def test_nonsense_numbers_are_refused(kw: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        FloodLimiter(**kw)  # type: ignore[arg-type]
