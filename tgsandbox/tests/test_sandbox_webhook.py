"""Webhook delivery: secret header, round-robin over several instances, failover."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, Update
from telegram.error import Conflict
from telegram.ext import ContextTypes, MessageHandler, filters

from tgsandbox import SandboxServer
from tgsandbox.tests.sandbox_helpers import build_app
from tgsandbox.webhook import SECRET_HEADER


@dataclass
class Receiver:
    """A tiny webhook endpoint that records what it receives."""

    status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[str | None] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        self.secrets.append(request.headers.get(SECRET_HEADER))
        return web.Response(status=self.status)


@pytest.fixture
async def receivers() -> AsyncIterator[list[Receiver]]:
    """Three receivers (statuses 200, 200, 500) on free ports."""
    runners, result = [], []
    for status in (200, 200, 500):
        receiver = Receiver(status)
        app = web.Application()
        app.router.add_post("/hook", receiver.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        receiver.url = f"http://127.0.0.1:{port}/hook"
        runners.append(runner)
        result.append(receiver)
    yield result
    for runner in runners:
        await runner.cleanup()


def _closed_port_url() -> str:
    """A URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


async def test_webhook_gets_updates_with_the_secret(
    api: SandboxServer, bot: Bot, receivers: list[Receiver]
) -> None:
    hook = receivers[0]
    assert await bot.set_webhook(hook.url, secret_token="geheim-123")
    user = api.add_user("Anna")
    update_id = await api.send_text(user, "/start")
    await api.wait_until(lambda: hook.received)
    assert hook.received[0]["update_id"] == update_id
    assert hook.received[0]["message"]["text"] == "/start"
    assert hook.secrets == ["geheim-123"]
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    info = await bot.get_webhook_info()
    assert info.url == hook.url and info.pending_update_count == 0


async def test_round_robin_over_instances(
    api: SandboxServer, bot: Bot, receivers: list[Receiver]
) -> None:
    first, second, _ = receivers
    await bot.set_webhook(first.url, secret_token="s", max_connections=1)
    api.bot().webhook_targets = [first.url, second.url]
    user = api.add_user("Bram")
    ids = [await api.send_text(user, f"antwoord {n}") for n in range(4)]
    await api.wait_until(lambda: len(api.bot().delivered_update_ids) == 4)
    assert len(first.received) == 2 and len(second.received) == 2
    assert sorted(u["update_id"] for u in first.received + second.received) == ids
    assert set(first.secrets + second.secrets) == {"s"}


async def test_failed_target_is_retried_on_another(
    api: SandboxServer, bot: Bot, receivers: list[Receiver]
) -> None:
    good, _, failing = receivers
    await bot.set_webhook(good.url, max_connections=1)
    api.bot().webhook_targets = [failing.url, _closed_port_url(), good.url]
    user = api.add_user("Cas")
    ids = [await api.send_text(user, f"bericht {n}") for n in range(3)]
    await api.wait_until(lambda: len(api.bot().delivered_update_ids) == 3)
    assert [u["update_id"] for u in good.received] == ids
    statuses = {attempt.status for attempt in api.bot().webhook_log}
    assert statuses == {500, None, 200}
    info = await bot.get_webhook_info()
    assert info.last_error_message


async def test_delete_webhook_returns_to_polling(
    api: SandboxServer, bot: Bot, receivers: list[Receiver]
) -> None:
    await bot.set_webhook(_closed_port_url())
    user = api.add_user("Dewi")
    await api.send_text(user, "blijft staan")
    await api.wait_until(lambda: api.bot().webhook_log)
    assert await bot.delete_webhook()
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.text == "blijft staan"


async def test_two_ptb_instances_behind_the_balancer(api: SandboxServer) -> None:
    """Two Applications in webhook mode (one token), updates spread round-robin; PTB checks
    the secret header, so a wrong one would never reach the handlers."""
    handled: dict[int, list[str]] = {0: [], 1: []}
    apps, urls = [], []
    for index in (0, 1):

        async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE, i: int = index) -> None:
            assert update.message is not None and update.message.text is not None
            handled[i].append(update.message.text)
            await update.message.reply_text(f"instantie {i}")

        app = build_app(api)
        app.add_handler(MessageHandler(filters.TEXT, reply))
        port = int(_closed_port_url().split(":")[2].split("/")[0])
        await app.initialize()
        await app.start()
        assert app.updater is not None
        url = f"http://127.0.0.1:{port}/hook"
        await app.updater.start_webhook(
            "127.0.0.1", port, url_path="hook", webhook_url=url, secret_token="lb-secret"
        )
        apps.append(app)
        urls.append(url)
    try:
        api.bot().webhook_targets = urls
        user = api.add_user("Eline")
        for n in range(4):
            await api.send_text(user, f"vraag {n}")
        await api.wait_until(lambda: len(api.messages(user)) == 4)
    finally:
        for app in apps:
            assert app.updater is not None
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
    assert len(handled[0]) == 2 and len(handled[1]) == 2
    assert (
        sorted(m.text or "" for m in api.messages(user))
        == ["instantie 0"] * 2 + ["instantie 1"] * 2
    )
