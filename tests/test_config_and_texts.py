"""Settings, log redaction and the text catalogue."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from bot.runtime.config import ConfigError, load_settings
from bot.runtime.logs import RedactSecrets
from bot.texts import LANGUAGES, catalogue, placeholders, t


def test_defaults_without_environment(clean_env: None) -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///mentorbot.db"
    assert settings.send_rate == 30 and settings.timezone == "Europe/Amsterdam"
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN is not set"):
        settings.token()


def test_env_file_and_environment(clean_env: None, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=1:abc\nMENTORBOT_RETENTION_DAYS=90\n")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    settings = load_settings()
    assert settings.token() == "1:abc" and settings.retention_days == 90
    assert settings.database_url == "postgresql+asyncpg://u@h/db"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MENTORBOT_TIMEZONE", "Mars/Base", "MENTORBOT_TIMEZONE: unknown time zone 'Mars/Base'"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL: use sqlite+aiosqlite:///FILE or postgresql"),
        ("TELEGRAM_API_BASE_URL", "ftp://x", "TELEGRAM_API_BASE_URL: must start with http"),
        ("MENTORBOT_RETENTION_DAYS", "0", "MENTORBOT_RETENTION_DAYS: Input should be greater"),
    ],
)
def test_malformed_setting_is_one_clear_line(
    clean_env: None, monkeypatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_token_is_hidden_in_settings_repr(clean_env: None, monkeypatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "99:very-secret")
    assert "very-secret" not in repr(load_settings())


def test_redaction_filter_scrubs_messages_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(["99:very-secret", "very-secret"]))
    log = logging.getLogger("test.redact")
    log.addHandler(handler)
    try:
        log.warning("calling https://api/bot%s/getMe", "99:very-secret")
        try:
            raise RuntimeError("url was https://api/bot99:very-secret/x")
        except RuntimeError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    assert "very-secret" not in stream.getvalue()
    assert "bot***/getMe" in stream.getvalue()


def test_every_text_exists_in_dutch_and_english_with_the_same_placeholders() -> None:
    for key, versions in catalogue().items():
        assert set(versions) == set(LANGUAGES), key
        assert placeholders(versions["nl"]) == placeholders(versions["en"]), key


def test_unknown_language_falls_back_to_dutch() -> None:
    assert t("language.set", "fr") == t("language.set", "nl")
