"""Settings read once from the environment or a `.env` file (pydantic-settings)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///mentorbot.db"
TELEGRAM_DEFAULT_API = "https://api.telegram.org"


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line fit for the user."""


class Settings(BaseSettings):
    """Every knob of mentorbot; names as in .env.example."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    telegram_bot_token: SecretStr | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str = Field(default=TELEGRAM_DEFAULT_API, alias="TELEGRAM_API_BASE_URL")
    database_url: str = Field(default=DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    timezone: str = Field(default="Europe/Amsterdam", alias="MENTORBOT_TIMEZONE")
    retention_days: int = Field(default=730, ge=1, alias="MENTORBOT_RETENTION_DAYS")
    send_rate: float = Field(default=30.0, gt=0, le=1000, alias="MENTORBOT_SEND_RATE")
    # Deprecated and ignored (replies go first through one limiter); a warning says so.
    send_headroom: float | None = Field(default=None, alias="MENTORBOT_SEND_HEADROOM")
    paid_broadcast: bool = Field(default=False, alias="MENTORBOT_PAID_BROADCAST")
    per_chat_rate: float = Field(default=1.0, gt=0, le=100, alias="MENTORBOT_PER_CHAT_RATE")
    outbox_stale_after: float = Field(default=300.0, ge=30, alias="MENTORBOT_OUTBOX_STALE_AFTER")
    lease_ttl: float = Field(default=10.0, ge=3, le=120, alias="MENTORBOT_LEASE_TTL")
    flood_burst: int = Field(default=15, ge=1, le=1000, alias="MENTORBOT_FLOOD_BURST")
    flood_per_second: float = Field(default=1.0, gt=0, le=1000, alias="MENTORBOT_FLOOD_PER_SECOND")
    grace_hours: float = Field(default=12.0, ge=0, alias="MENTORBOT_GRACE_HOURS")
    delete_on_stop: bool = Field(default=False, alias="MENTORBOT_DELETE_ON_STOP")
    log_level: str = Field(default="INFO", alias="MENTORBOT_LOG_LEVEL")
    bot_username: str | None = Field(default=None, alias="MENTORBOT_BOT_USERNAME")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        # python-telegram-bot's own `base_url` ends in "/bot"; people copy that convention.
        # The application appends "/bot" itself, so strip it here rather than answer every
        # request with "token rejected" (…/bot/bot<token>/getMe).
        return value.rstrip("/").removesuffix("/bot").rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _supported_db(cls, value: str) -> str:
        if value.startswith("sqlite:///"):
            value = "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if value.startswith(("postgresql://", "postgres://")):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///FILE or postgresql+asyncpg://…")
        return value

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def token(self) -> str:
        """The bot token, or a ConfigError naming the variable."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            raise ConfigError("TELEGRAM_BOT_TOKEN is not set (see .env.example)")
        return self.telegram_bot_token.get_secret_value()


def load_settings(env_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the settings; any problem becomes a one-line ConfigError."""
    try:
        if env_file is not None:
            return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = _env_name(str(first["loc"][0])) if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{name}: {message}") from None


def _env_name(field: str) -> str:
    info = Settings.model_fields.get(field)
    return info.alias if info is not None and info.alias else field.upper()
