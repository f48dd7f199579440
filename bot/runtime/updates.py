"""Handling updates concurrently across users but strictly in order per user.

PTB handles one update at a time by default; with a class answering at once that queues every
student behind the others. Updates of different users are independent, so they may run side by
side; one user's updates (a double tap, an answer then /verder) must not overtake each other.

Updates from Telegram come through the inbox (bot.runtime.inbox), which keeps that order itself,
across instances too, with the same `user_key`; this processor keeps it for anything put on the
Application's update queue directly."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """At most `max_concurrent_updates` at once, one at a time per user (or chat)."""

    def __init__(self, max_concurrent_updates: int = 16) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}  # key -> updates waiting or running, to drop idle locks

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = user_key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to close: PTB waits for running updates itself."""


def user_key(update: object) -> int:
    """The user an update belongs to (else its chat; 0 for neither): its order key."""
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return 0
