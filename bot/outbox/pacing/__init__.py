"""Pacing: Telegram's limits and what its answers mean, for replies and bulk sends alike.

`rates` spaces every message so no limit is crossed (global, per chat, per group; replies
first, bulk in the slots they leave, paid broadcasts on a budget of their own); `answers`
says what to do when Telegram answers with an error: pause for `retry_after`, retry after
`backoff_delay`, give the chat up as unreachable, or fail the message.
"""

from bot.outbox.pacing.answers import Outcome, backoff_delay, classify, retry_after_seconds
from bot.outbox.pacing.rates import (
    DEFAULT_CHAT_MARGIN,
    DEFAULT_SEND_RATE,
    PAID_BROADCAST_RATE,
    Paused,
    RateLimiter,
    is_group,
    send_rate_from_env,
)

__all__ = [
    "DEFAULT_CHAT_MARGIN",
    "DEFAULT_SEND_RATE",
    "PAID_BROADCAST_RATE",
    "Outcome",
    "Paused",
    "RateLimiter",
    "backoff_delay",
    "classify",
    "is_group",
    "retry_after_seconds",
    "send_rate_from_env",
]
