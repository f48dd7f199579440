"""The per-user flood limit: a token bucket per Telegram user, kept in memory.

Each user has a bucket of `BURST` tokens that refills at `PER_SECOND` tokens a second; every
update from the user (a message, an edit, a button press) takes one token, and an update that
finds the bucket empty is refused (it takes nothing, so a user who slows down is let through
again at once).

The numbers, for a student answering quickly:

- a reflection is about six questions; a quick student taps a rating every 2-3 seconds, and a
  double tap, a change of mind or a text sent in two parts make short bursts of 3-5 updates;
- `BURST = 15` lets such a burst (and the first minute of a mentor typing commands) through
  untouched, and `PER_SECOND = 1.0` (60 updates a minute, sustained) is faster than anyone
  reads and answers, but stops a script or a stuck key after 15 updates;
- a refused user is told at most once every `NOTICE_EVERY` seconds (60 s), so the bot itself
  never floods the chat back (Telegram allows a bot about one message a second per chat).

The limit is per process: with several instances behind a load balancer each counts the
updates it sees, which only makes the limit looser, never stricter. Buckets of users who went
quiet are dropped (`prune`), so memory stays bounded by the users active in the last
`BURST / PER_SECOND` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

BURST = 15
PER_SECOND = 1.0
NOTICE_EVERY = 60.0
PRUNE_EVERY = 1000  # updates between two sweeps of idle buckets


@dataclass
class _Bucket:
    tokens: float
    updated: float
    noticed_at: float | None = None  # when the user was last told to slow down
    language: str | None = None  # remembered at the notice, for later refusals


@dataclass(frozen=True)
class Verdict:
    """The outcome of one update: allowed, or refused (and whether to tell the user now)."""

    allowed: bool
    notify: bool = False  # refused, and the user has not been told in the last NOTICE_EVERY
    language: str | None = None  # the language remembered for this user, if any


ALLOWED = Verdict(allowed=True)


@dataclass
class FloodLimiter:
    """Token buckets per user id. `clock` returns seconds (monotonic); inject one in tests."""

    burst: float = BURST
    per_second: float = PER_SECOND
    notice_every: float = NOTICE_EVERY
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[int, _Bucket] = field(default_factory=dict, init=False, repr=False)
    _since_prune: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.burst < 1 or self.per_second <= 0 or self.notice_every < 0:
            raise ValueError("burst must be ≥ 1, per_second > 0 and notice_every ≥ 0")

    def hit(self, user_id: int) -> Verdict:
        """Count one update from `user_id`; refuse it when the user's bucket is empty."""
        now = self.clock()
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY:
            self.prune()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = self._buckets[user_id] = _Bucket(tokens=self.burst, updated=now)
        else:
            elapsed = max(now - bucket.updated, 0.0)
            bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.per_second)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return ALLOWED
        notify = bucket.noticed_at is None or now - bucket.noticed_at >= self.notice_every
        if notify:
            bucket.noticed_at = now
        return Verdict(allowed=False, notify=notify, language=bucket.language)

    def remember_language(self, user_id: int, language: str) -> None:
        """Keep the user's language with their bucket, so later refusals need no lookup."""
        bucket = self._buckets.get(user_id)
        if bucket is not None:
            bucket.language = language

    def prune(self) -> int:
        """Drop the buckets that are full again and whose notice has expired; returns how many."""
        self._since_prune = 0
        now = self.clock()
        idle = [
            user_id
            for user_id, b in self._buckets.items()
            if b.tokens + (now - b.updated) * self.per_second >= self.burst
            and (b.noticed_at is None or now - b.noticed_at >= self.notice_every)
        ]
        for user_id in idle:
            del self._buckets[user_id]
        return len(idle)

    def __len__(self) -> int:
        return len(self._buckets)
