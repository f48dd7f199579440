"""Telegram's answers: what an error means for the message (pause for `retry_after`, retry
after `backoff_delay`, give the chat up as unreachable, or fail it)."""

from __future__ import annotations

import random
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

Action = Literal["pause", "retry", "unreachable", "failed"]
_INVALID_TOKEN_PAUSE = 60.0  # a wrong token is an operator's fix; keep rows, try again later
_BAD_REQUEST_KINDS = (  # Telegram's description → a short kind for logs and metrics
    ("chat not found", "chat_not_found"),
    ("can't parse entities", "parse_entities"),
    ("message is too long", "too_long"),
    ("button_data_invalid", "button_data"),
    ("wrong file", "bad_file"),
    ("image_process_failed", "bad_file"),
)


@dataclass(frozen=True)
class Outcome:
    """What to do about a failed request."""

    action: Action
    kind: str
    delay: float = 0.0
    maybe_delivered: bool = False  # the request may have reached Telegram before failing


# Errors of the HTTP client (httpx's, then aiohttp's: bot.outbox.transport) that come before
# the request has left: no connection was had.
_NOT_SENT_ERRORS = (
    "ConnectError",
    "ConnectTimeout",
    "PoolTimeout",
    "UnsupportedProtocol",
    "ClientConnectorError",
    "ClientConnectorDNSError",
    "InvalidURL",
)
_CLIENT_PREFIXES = ("httpx.", "aiohttp.")


def classify(exc: BaseException) -> Outcome:
    """Map an exception from a send request to what the sender should do next."""
    if isinstance(exc, RetryAfter):
        return Outcome("pause", "retry_after", delay=retry_after_seconds(exc))
    if isinstance(exc, Forbidden):
        return Outcome("unreachable", "forbidden")
    if isinstance(exc, ChatMigrated):
        return Outcome("failed", "chat_migrated")
    if isinstance(exc, InvalidToken):
        return Outcome("pause", "invalid_token", delay=_INVALID_TOKEN_PAUSE)
    if isinstance(exc, BadRequest):  # before NetworkError: BadRequest is a subclass of it
        kind = _bad_request_kind(exc.message)
        return Outcome("unreachable" if kind == "chat_not_found" else "failed", kind)
    if isinstance(exc, TimedOut):  # also a NetworkError
        # A read timeout may come after Telegram got the message; a pool timeout (no free
        # connection) is before anything was sent.
        sent = not exc.message.lower().startswith("pool timeout")
        return Outcome("retry", "timeout", maybe_delivered=sent)
    if isinstance(exc, NetworkError):
        # Errors of the HTTP client are prefixed with its name ("httpx." by PTB, "aiohttp." by
        # bot.outbox.transport); "Unknown error in HTTP implementation" is the client itself
        # (e.g. closed); anything else is an HTTP error status from the server (5xx, or 502
        # from a proxy).
        message = exc.message
        if message.startswith("Unknown error in HTTP implementation"):
            return Outcome("retry", "client")
        if message.startswith(_CLIENT_PREFIXES):
            # a connection that failed while reading the answer may have delivered the
            # message already: count it as a possible repeat; a failed connect has not
            maybe = not any(word in message for word in _NOT_SENT_ERRORS)
            return Outcome("retry", "network", maybe_delivered=maybe)
        return Outcome("retry", "server")
    if isinstance(exc, TelegramError):
        return Outcome("failed", "telegram_error")
    return Outcome("failed", "internal")


def retry_after_seconds(exc: RetryAfter) -> float:
    """Seconds Telegram asked to wait (PTB gives an int or a timedelta)."""
    with warnings.catch_warnings():  # PTB 22 warns that the int form is deprecated
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return max(seconds, 0.0)


def _bad_request_kind(description: str) -> str:
    lowered = description.lower()
    for needle, kind in _BAD_REQUEST_KINDS:
        if needle in lowered:
            return kind
    return "bad_request"


def backoff_delay(attempts: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds before retry number `attempts`: exponential, capped, with jitter (half to all
    of the step) so that many rows failing together do not come back together."""
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return ceiling * rng.uniform(0.5, 1.0)
