"""Logging: one line per event, and secrets scrubbed from every record.

httpx logs each request URL at INFO, and Telegram puts the token in the URL, so those loggers
are raised to WARNING; the filter is a second line of defence for anything else."""

from __future__ import annotations

import logging
import sys

from bot.config import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class RedactSecrets(logging.Filter):
    """Replace each secret with *** in the message and its arguments."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

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
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactSecrets(secrets_of(settings)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    install_redaction(settings)


def install_redaction(settings: Settings) -> None:
    """Quieten request logging that would carry the token, and filter every handler."""
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    redact = RedactSecrets(secrets_of(settings))
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(redact)
