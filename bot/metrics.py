"""Prometheus metrics for `/metrics`: updates handled, outbox depth and age, send
errors by kind, alerts raised, messages sent, repeats.

They live in a module-level `REGISTRY` rather than prometheus_client's global default so that
tests can read exact values and nothing else registered in the process leaks into `/metrics`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST

UPDATES_HANDLED = Counter(
    "updates_handled_total", "Telegram updates handled by the bot", registry=REGISTRY
)
OUTBOX_DEPTH = Gauge("outbox_depth", "Outbox rows waiting to be sent", registry=REGISTRY)
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_age_seconds",
    "Seconds since the oldest waiting outbox row was queued",
    registry=REGISTRY,
)
SEND_ERRORS = Counter(
    "send_errors_total",
    "Failed send requests by kind (retry_after, network, server, forbidden, bad_request, …)",
    ["kind"],
    registry=REGISTRY,
)
ALERTS_RAISED = Counter(
    "alerts_raised_total", "Gap alerts raised to mentor teams", registry=REGISTRY
)
MESSAGES_SENT = Counter(
    "messages_sent_total", "Outbox messages accepted by Telegram", registry=REGISTRY
)
OUTBOX_REPEATS = Counter(
    "outbox_repeats_total",
    "Outbox rows reclaimed after their instance died mid-request (may have gone out twice)",
    registry=REGISTRY,
)

INBOX_PARKED = Counter(
    "inbox_parked_total",
    "Updates given up after failing three times (kept for the operator: mentorbot inbox)",
    registry=REGISTRY,
)
INBOX_DEPTH = Gauge(
    "inbox_depth", "Stored updates not yet handled (pending or being handled)", registry=REGISTRY
)


def render() -> bytes:
    """The exposition text for a `/metrics` response (content type: CONTENT_TYPE)."""
    return generate_latest(REGISTRY)


def value(name: str, **labels: str) -> float:
    """The current value of one sample (0 when it was never set): for tests and `/healthz`."""
    sample = REGISTRY.get_sample_value(name, labels or None)
    return 0.0 if sample is None else sample
