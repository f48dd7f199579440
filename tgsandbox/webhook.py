"""Webhook delivery: POST each update to the bot's webhook like Telegram, or round-robin to
several targets like a load balancer in front of several bot instances."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import aiohttp

from tgsandbox.botstate import BotState, WebhookAttempt
from tgsandbox.world import now

if TYPE_CHECKING:
    from tgsandbox.server import SandboxServer

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class Webhooks:
    """Delivery workers per bot; up to `max_connections` updates are in flight at once."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.timeout = 10.0  # seconds a target may take to answer one update
        self.retry_delay = 0.05  # first backoff after a failed attempt; doubles, capped at 2 s
        self._tasks: dict[str, list[asyncio.Task[None]]] = {}
        self._in_flight: dict[str, set[int]] = defaultdict(set)
        self._next_target: dict[str, int] = defaultdict(int)
        self._session: aiohttp.ClientSession | None = None

    def start(self, bot: BotState) -> None:
        """Start delivering for `bot` (no-op if already running; settings are read live)."""
        if self._tasks.get(bot.token):
            return
        workers = max(1, min(bot.webhook.max_connections, 100))
        self._tasks[bot.token] = [
            asyncio.create_task(self._worker(bot), name=f"sandbox-webhook-{bot.user.id}-{n}")
            for n in range(workers)
        ]

    async def stop(self, bot: BotState) -> None:
        """Stop delivering for `bot`; undelivered updates stay queued."""
        tasks = self._tasks.pop(bot.token, [])
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._in_flight.pop(bot.token, None)

    async def close(self) -> None:
        """Stop every worker and close the HTTP client."""
        for token in list(self._tasks):
            await self.stop(self.server.bot(token))
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _worker(self, bot: BotState) -> None:
        in_flight = self._in_flight[bot.token]

        def claimable() -> dict[str, Any] | None:
            bot.drop_disallowed()
            return next((u for u in bot.updates if u["update_id"] not in in_flight), None)

        while bot.webhook_active:
            update = await bot.updates_changed.wait_until(claimable, None)
            in_flight.add(update["update_id"])
            try:
                delivered = await self._deliver(bot, update)
            finally:
                in_flight.discard(update["update_id"])
            if delivered:
                bot.updates = [u for u in bot.updates if u is not update]
                bot.mark_delivered([update["update_id"]])
                self.server.changed.notify()

    async def _deliver(self, bot: BotState, update: dict[str, Any]) -> bool:
        """Try targets round-robin until one answers 2xx (or the webhook goes away)."""
        delay, failures = self.retry_delay, 0
        while bot.webhook_active:
            url = self._pick_target(bot)
            status, error = await self._post(bot, url, update)
            bot.webhook_log.append(WebhookAttempt(update["update_id"], url, status, error))
            self.server.changed.notify()
            if status is not None and 200 <= status < 300:
                return True
            bot.webhook.last_error_date = now()
            bot.webhook.last_error_message = error or f"Wrong response from the webhook: {status}"
            # With several targets the next one is tried at once; the backoff only spaces out
            # full rounds, so one dead instance costs the others no delay.
            failures += 1
            if failures % (len(bot.webhook_targets) or 1) == 0:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        return False

    def _pick_target(self, bot: BotState) -> str:
        targets = bot.webhook_targets or [bot.webhook.url]
        index = self._next_target[bot.token] % len(targets)
        self._next_target[bot.token] += 1
        return targets[index]

    async def _post(
        self, bot: BotState, url: str, update: dict[str, Any]
    ) -> tuple[int | None, str | None]:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {SECRET_HEADER: bot.webhook.secret_token} if bot.webhook.secret_token else {}
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with self._session.post(
                url, json=update, headers=headers, timeout=timeout
            ) as response:
                await response.read()
                return response.status, None
        except (aiohttp.ClientError, TimeoutError) as exc:
            return None, f"Connection failed: {type(exc).__name__}: {exc}"
