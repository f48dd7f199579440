"""How the sender reacts to each Telegram answer, and the backoff between retries."""

from __future__ import annotations

import random

import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from bot.outbox.pacing import Outcome, backoff_delay, classify


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (RetryAfter(7), Outcome("pause", "retry_after", delay=7.0)),
        (Forbidden("Forbidden: bot was blocked by the user"), Outcome("unreachable", "forbidden")),
        (BadRequest("Bad Request: chat not found"), Outcome("unreachable", "chat_not_found")),
        (BadRequest("Bad Request: can't parse entities: x"), Outcome("failed", "parse_entities")),
        (BadRequest("Bad Request: something new"), Outcome("failed", "bad_request")),
        (ChatMigrated(-100123), Outcome("failed", "chat_migrated")),
        (InvalidToken("Unauthorized"), Outcome("pause", "invalid_token", delay=60.0)),
        (TimedOut("Timed out"), Outcome("retry", "timeout", maybe_delivered=True)),
        (TimedOut("Pool timeout: All connections are occupied"), Outcome("retry", "timeout")),
        (NetworkError("httpx.ConnectError: refused"), Outcome("retry", "network")),
        (NetworkError("aiohttp.ClientConnectorError: refused"), Outcome("retry", "network")),
        (
            NetworkError("aiohttp.ServerDisconnectedError: Server disconnected"),
            Outcome("retry", "network", maybe_delivered=True),
        ),
        (NetworkError("Internal Server Error (500)"), Outcome("retry", "server")),
        (KeyError("text"), Outcome("failed", "internal")),
    ],
)
def test_classify(exc: Exception, expected: Outcome) -> None:
    assert classify(exc) == expected


def test_backoff_grows_is_capped_and_jittered() -> None:
    rng = random.Random(1)
    steps = [backoff_delay(n, 1.0, 10.0, rng) for n in range(1, 7)]
    for attempts, delay in enumerate(steps, start=1):
        ceiling = min(10.0, 2 ** (attempts - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(backoff_delay(3, 1.0, 10.0, rng), 6) for _ in range(20)}) > 1
