"""`mentorbot run` option checks of the runner: clear one-line errors, exit code 2."""

from __future__ import annotations

import pytest

from bot.app.runner import (
    StartupError,
    check_secret,
    health_port_from_env,
    run_bot,
    webhook_route,
)
from tests.conftest import make_settings


def test_webhook_route_defaults_to_telegram_path() -> None:
    assert webhook_route("https://bot.example.org") == (
        "https://bot.example.org/telegram",
        "/telegram",
    )
    assert webhook_route("https://bot.example.org/hook/abc") == (
        "https://bot.example.org/hook/abc",
        "/hook/abc",
    )
    assert webhook_route("https://x.org/public", "internal") == (
        "https://x.org/public",
        "/internal",
    )
    with pytest.raises(StartupError):
        webhook_route("bot.example.org/telegram")


def test_secret_is_required_and_checked() -> None:
    assert check_secret("abc_DEF-123") == "abc_DEF-123"
    for bad in (None, "", "has space", "x" * 257, "ümlaut"):
        with pytest.raises(StartupError):
            check_secret(bad)


def test_health_port_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MENTORBOT_HEALTH_PORT", raising=False)
    assert health_port_from_env() is None
    monkeypatch.setenv("MENTORBOT_HEALTH_PORT", "9100")
    assert health_port_from_env() == 9100
    for bad in ("http", "70000"):
        monkeypatch.setenv("MENTORBOT_HEALTH_PORT", bad)
        with pytest.raises(StartupError):
            health_port_from_env()


def test_run_bot_refuses_a_webhook_without_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MENTORBOT_WEBHOOK_SECRET", raising=False)
    settings = make_settings("sqlite+aiosqlite:///unused.db", "http://127.0.0.1:1")
    with pytest.raises(SystemExit) as exited:
        run_bot(settings, webhook_url="https://bot.example.org", secret=None)
    assert exited.value.code == 2
    assert "--secret (or MENTORBOT_WEBHOOK_SECRET) is required" in capsys.readouterr().err
    monkeypatch.setenv("MENTORBOT_WEBHOOK_SECRET", "bad secret")
    with pytest.raises(SystemExit):
        run_bot(settings, webhook_url="https://bot.example.org", secret=None)
    assert "--secret: use 1-256 characters" in capsys.readouterr().err
