"""Logging: one line per event, `ts level logger msg key=value…`, secrets scrubbed.

    2026-11-29T07:50:01.123Z INFO handlers.checkin answer stored update=812 cohort=3

`update=` and `cohort=` come from context variables: `context_handler()` (a TypeHandler in
group -3) sets `update=` for every update before any other handler runs, and a handler that
knows the cohort calls `bind(cohort=…)`. A traceback is folded into the same line
(`exc="…"`, newlines escaped) so that one event stays one line for log shippers.

Message contents never appear at INFO or above (our own log calls name ids and kinds only;
python-telegram-bot logs an update's content only at DEBUG). httpx logs each request URL at
INFO, and Telegram puts the token in the URL, so those loggers are raised to WARNING; the
RedactSecrets filter is a second line of defence, also for the webhook secret."""

from __future__ import annotations

import contextvars
import logging
import sys
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from bot.runtime.config import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"  # kept for callers; see LineFormatter

# Fields of the event being handled (update id, cohort id): copied into every record.
_NONE: Mapping[str, object] = MappingProxyType({})
_FIELDS: contextvars.ContextVar[Mapping[str, object]] = contextvars.ContextVar(
    "mentorbot_log_fields", default=_NONE
)
_CONTEXT_GROUP = -3  # before the guards (-2) and the group gate (-1)


def bind(**fields: object) -> None:
    """Add fields (e.g. `cohort=3`) to every log line of the current update's handling."""
    current = dict(_FIELDS.get())
    current.update({k: v for k, v in fields.items() if v is not None})
    _FIELDS.set(current)


def bound() -> Mapping[str, object]:
    """The fields bound now (for tests)."""
    return _FIELDS.get()


def reset_bound(**fields: object) -> contextvars.Token[Mapping[str, object]]:
    """Start a new event: only `fields` are bound afterwards."""
    return _FIELDS.set({k: v for k, v in fields.items() if v is not None})


class ContextFields(logging.Filter):
    """Copy the bound fields onto the record (as `record.fields`) when it is created."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "fields"):
            record.fields = dict(_FIELDS.get())
        return True


def _quote(value: object) -> str:
    text = str(value)
    if text and not any(c in text for c in ' "=\n\r\t\\'):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


class LineFormatter(logging.Formatter):
    """`ts level logger msg key=value…` on exactly one line; ts is UTC ISO 8601 with ms."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().replace("\r", "\\r").replace("\n", "\\n")
        parts = [self.formatTime(record), record.levelname, record.name, message]
        fields: Mapping[str, Any] = getattr(record, "fields", None) or {}
        parts.extend(f"{key}={_quote(value)}" for key, value in fields.items())
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            parts.append(f"exc={_quote(record.exc_text)}")
        if record.stack_info:
            parts.append(f"stack={_quote(self.formatStack(record.stack_info))}")
        return " ".join(parts)


class RedactSecrets(logging.Filter):
    """Replace each secret with *** in the message and its arguments."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def add(self, secret: str | None) -> None:
        if secret and secret not in self.secrets:
            self.secrets.append(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for secret in self.secrets:
            message = message.replace(secret, "***")
            if record.exc_text:
                record.exc_text = record.exc_text.replace(secret, "***")
        record.msg, record.args = message, None
        return True


def secrets_of(settings: Settings) -> list[str]:
    token = settings.telegram_bot_token
    values = [token.get_secret_value()] if token is not None else []
    if token is not None and ":" in values[0]:
        values.append(values[0].split(":", 1)[1])  # the secret half, should it appear alone
    return values


def configure_logging(settings: Settings, stream: object = None) -> None:
    """Root logging for the bot process."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(LineFormatter())
    handler.addFilter(ContextFields())
    handler.addFilter(RedactSecrets(secrets_of(settings)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    install_redaction(settings)


def install_redaction(settings: Settings) -> None:
    """Quieten request logging that would carry the token, and filter every handler."""
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    redact = RedactSecrets(secrets_of(settings))
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(redact)


def redact_also(secret: str | None) -> None:
    """Scrub one more secret (e.g. the webhook secret) from every root handler's output."""
    if not secret:
        return
    for handler in logging.getLogger().handlers:
        for found in handler.filters:
            if isinstance(found, RedactSecrets):
                found.add(secret)


# --- the group -3 handler -------------------------------------------------------------------


async def _bind_update(update: object, _context: object) -> None:
    """Bind `update=<id>` for everything logged while this update is handled, and count it."""
    from telegram import Update

    from bot import metrics

    update_id = update.update_id if isinstance(update, Update) else None
    reset_bound(update=update_id)
    metrics.UPDATES_HANDLED.inc()


def context_handler() -> Any:
    """A TypeHandler for every Update, to be added in group -3 (before everything else): it
    binds the update id for the log lines and counts `updates_handled_total`.

    It never ends the handling of an update (it does not raise ApplicationHandlerStop)."""
    from telegram import Update
    from telegram.ext import TypeHandler

    return TypeHandler(Update, _bind_update)


def install_context_handler(application: Any) -> bool:
    """Add `context_handler()` in group -3 unless it is there already; True when added."""
    present = application.handlers.get(_CONTEXT_GROUP, [])
    if any(getattr(h, "callback", None) is _bind_update for h in present):
        return False
    application.add_handler(context_handler(), group=_CONTEXT_GROUP)
    return True
