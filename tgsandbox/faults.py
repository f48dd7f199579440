"""Injected faults, Telegram-like rate limits and counters, for delivery tests."""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class FaultRule:
    """Answer the next `count` matching requests with an error."""

    method: str | None  # None: any method
    status: int
    count: int
    retry_after: int | None
    chat_id: int | str | None
    description: str
    executed: bool  # True: do the work anyway, then answer the error (an ambiguous failure)

    def matches(self, method: str, chat_id: object) -> bool:
        """Whether this rule applies to a request."""
        if self.method is not None and self.method != method:
            return False
        return self.chat_id is None or str(self.chat_id) == str(chat_id)


@dataclass
class DelayRule:
    """Answer matching requests only after `seconds` (the work happens after the delay too)."""

    method: str | None
    seconds: float
    count: int | None  # None: until cleared


class Faults:
    """Errors and delays that tests schedule; see `fail_next` and `delay`."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self.delays: list[DelayRule] = []
        self.injected = 0  # how many requests got an injected error

    def fail_next(
        self,
        method: str | None,
        status: int,
        count: int = 1,
        retry_after: int | None = None,
        chat_id: int | str | None = None,
        description: str | None = None,
        executed: bool = False,
    ) -> FaultRule:
        """The next `count` calls of `method` (None = any) answer `status`.

        429 gets `parameters.retry_after` (default 1 s) and Telegram's description. With
        `executed=True` the call takes effect (e.g. the message is stored) before the error is
        answered, like a response lost after Telegram did the work.
        """
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            default = f"Too Many Requests: retry after {retry_after}"
        else:
            default = _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
        rule = FaultRule(
            method, status, count, retry_after, chat_id, description or default, executed
        )
        self.rules.append(rule)
        return rule

    def delay(self, method: str | None, seconds: float, count: int | None = None) -> DelayRule:
        """Make calls of `method` (None = any) slow; `count=None` until `clear()`."""
        rule = DelayRule(method, seconds, count)
        self.delays.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every scheduled fault and delay."""
        self.rules.clear()
        self.delays.clear()

    def take_failure(self, method: str, chat_id: object) -> FaultRule | None:
        """The first matching rule, consumed once."""
        for rule in self.rules:
            if rule.matches(method, chat_id):
                rule.count -= 1
                if rule.count <= 0:
                    self.rules.remove(rule)
                self.injected += 1
                return rule
        return None

    def take_delay(self, method: str) -> float:
        """Seconds to wait before handling this call (0 when no delay applies)."""
        for rule in self.delays:
            if rule.method is None or rule.method == method:
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self.delays.remove(rule)
                return rule.seconds
        return 0.0


class Window:
    """A sliding window: at most `limit` events in any `seconds`-long span."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.times: deque[float] = deque()

    def retry_after(self, now: float) -> float | None:
        """Seconds until one more event fits, or None if it fits now."""
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        if len(self.times) < self.limit:
            return None
        return self.times[0] + self.seconds - now

    def add(self, now: float) -> None:
        """Count one event."""
        self.times.append(now)


def _window(per_period: float, period: float) -> tuple[int, float]:
    """(limit, seconds) for a rate like 30/s or 0.5/s (→ 1 per 2 s)."""
    if per_period >= 1:
        return int(per_period), period
    return 1, period / per_period


def is_counted_send(method: str) -> bool:
    """Which calls count as messages against Telegram's limits: sends, copies, forwards."""
    if method in ("sendChatAction", "sendMessageDraft"):
        return False
    return method.startswith(("send", "copyMessage", "forwardMessage"))


class RateLimiter:
    """Telegram's flood limits per bot: global per second, per chat per second, per group per
    minute, and paid broadcasts (`allow_paid_broadcast`: their own global limit, 1,000/s,
    instead of the free one; the chat limits hold for them too). Off until `configure`."""

    def __init__(self) -> None:
        self.enabled = False
        self._global = (30, 1.0)
        self._chat = (1, 1.0)
        self._group = (20, 60.0)
        self._paid = (1000, 1.0)
        self._windows: dict[tuple[str, str, object], Window] = {}
        self.counted: Callable[[str], bool] = is_counted_send

    def configure(
        self,
        global_per_second: float | None = 30,
        per_chat_per_second: float | None = 1,
        per_group_per_minute: float | None = 20,
        paid_per_second: float | None = 1000,
    ) -> None:
        """Turn limits on (None switches one limit off); resets the windows."""
        self.enabled = True
        self._paid = _window(paid_per_second, 1.0) if paid_per_second else (0, 0.0)
        self._global = _window(global_per_second, 1.0) if global_per_second else (0, 0.0)
        self._chat = _window(per_chat_per_second, 1.0) if per_chat_per_second else (0, 0.0)
        self._group = _window(per_group_per_minute, 60.0) if per_group_per_minute else (0, 0.0)
        self._windows.clear()

    def disable(self) -> None:
        """Turn all limits off."""
        self.enabled = False

    def check(self, token: str, chat_id: object, is_group: bool, paid: bool = False) -> int | None:
        """retry_after in whole seconds (≥ 1) if this send is over a limit, else None; an
        accepted send is counted."""
        now = time.monotonic()
        windows = self._windows_for(token, chat_id, is_group, paid)
        waits = [w for w in (win.retry_after(now) for win in windows) if w is not None]
        if waits:
            return max(1, math.ceil(max(waits)))
        for win in windows:
            win.add(now)
        return None

    def _windows_for(self, token: str, chat_id: object, is_group: bool, paid: bool) -> list[Window]:
        overall = ("paid", None, self._paid) if paid else ("global", None, self._global)
        specs = [overall, ("chat", chat_id, self._chat)]
        if is_group:
            specs.append(("group", chat_id, self._group))
        result = []
        for scope, key, (limit, seconds) in specs:
            if limit:
                window = self._windows.get((token, scope, key))
                if window is None:
                    window = self._windows[(token, scope, key)] = Window(limit, seconds)
                result.append(window)
        return result


@dataclass
class Stats:
    """Counters that tests assert on."""

    calls: Counter[str] = field(default_factory=Counter)  # per method, every request
    errors: Counter[int] = field(default_factory=Counter)  # per HTTP status of error answers
    rate_limited: int = 0  # 429s produced by the rate limiter
    rate_limited_times: list[float] = field(default_factory=list)  # when each was, monotonic
    send_times: dict[object, list[float]] = field(default_factory=lambda: defaultdict(list))
    all_send_times: list[float] = field(default_factory=list)  # accepted sends, monotonic

    @property
    def too_many_requests(self) -> int:
        """All 429 answers (rate limiter and injected faults)."""
        return self.errors[429]

    def record_send(self, chat_id: object) -> None:
        """An accepted message to `chat_id`."""
        stamp = time.monotonic()
        self.send_times[chat_id].append(stamp)
        self.all_send_times.append(stamp)

    def max_sends_within(self, seconds: float, chat_id: object = None) -> int:
        """The most accepted sends in any window of `seconds` (one chat, or all if None)."""
        times = self.all_send_times if chat_id is None else self.send_times.get(chat_id, [])
        best, start = 0, 0
        for end, stamp in enumerate(times):
            while stamp - times[start] >= seconds:
                start += 1
            best = max(best, end - start + 1)
        return best
