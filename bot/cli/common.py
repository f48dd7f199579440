"""What every `mentorbot` command shares: the consoles, the settings, failing with one clear line,
running a database action, and reading files. Imports nothing of the command modules."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import NoReturn, TypeVar

import typer
from rich.console import Console

from bot.runtime.config import ConfigError, Settings, load_settings
from storage import migrate
from storage.db import Database

T = TypeVar("T")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def out_console() -> Console:
    return out


def settings() -> Settings:
    """The settings, or one clear line and exit code 2."""
    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc))


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def run_db(action: Callable[[Database], Awaitable[T]]) -> T:
    """Migrate the schema, open the database, run `action`, close it again; an AdminError
    becomes a clear message and exit code 2."""
    from bot.people.admin import AdminError

    config = settings()

    async def go() -> T:
        await migrate.upgrade(config.database_url)
        db = Database(config.database_url)
        try:
            return await action(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(go())
    except AdminError as exc:
        fail(str(exc))


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--start: {text!r} is not a date like 2026-09-01")


def read_text(path: Path) -> str:
    return read_bytes(path).decode("utf-8", errors="strict")


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")
