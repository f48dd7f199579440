"""The typed context handlers see: `context.state` holds the long-lived services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.runtime.config import Settings

if TYPE_CHECKING:
    from bot.runtime.services import Services
    from bot.schedule.clock import Clock
    from storage.db import Database


@dataclass(frozen=True)
class StartOptions:
    """How `post_init` starts the services: set once by `build_application`."""

    migrate_on_start: bool = True
    clock: Clock | None = None  # None: the system clock; the demo and the tests pass a FakeClock
    scheduler: bool = True  # False: no round scheduler and no housekeeping (tests drive them)


@dataclass
class AppState:
    """Created empty by PTB; filled in `post_init`, emptied in `post_shutdown`."""

    settings: Settings | None = None
    db: Database | None = None
    running: Services | None = None
    options: StartOptions = field(default_factory=StartOptions)

    def database(self) -> Database:
        if self.db is None:
            raise RuntimeError("the database is not open (post_init has not run)")
        return self.db

    def live(self) -> Services:
        if self.running is None:
            raise RuntimeError("the services are not running (post_init has not run)")
        return self.running

    def now(self) -> datetime:
        """The current time of the running services' clock (simulated in the demo and tests)."""
        return self.live().clock.now()

    def wake_sender(self) -> None:
        """Rows were queued by a handler: deliver them now."""
        if self.running is not None:
            self.running.sender.wake()

    def config(self) -> Settings:
        if self.settings is None:
            raise RuntimeError("settings missing")
        return self.settings


class MentorContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], AppState]):
    """CallbackContext with typed access to the application state."""

    @property
    def state(self) -> AppState:
        return self.bot_data


MentorApp = Application[ExtBot[None], MentorContext, dict[Any, Any], dict[Any, Any], AppState, Any]
