"""The bot's own web server in webhook mode, in one event loop: the real Application behind
`bot.app.web`, the sandbox Bot API delivering updates to it like Telegram."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import socket
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from sqlalchemy.engine import make_url
from telegram import Update
from telegram.ext import TypeHandler

from bot import metrics
from bot.app.application import build_application
from bot.app.runner import StartupError, serve, webhook_route
from bot.app.web import SECRET_HEADER, WebServer, build_web_app, database_ok
from bot.runtime.lease import LeaseKeeper
from bot.runtime.logs import configure_logging, install_context_handler
from storage.db import Database
from storage.records import InboxRecord
from storage.repos.inbox import InboxRepo
from tests.conftest import make_settings
from tests.processes import eventually
from tgsandbox import SandboxServer

SECRET = "s3cret-Webhook_token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Running:
    api: SandboxServer
    app: Any
    base: str  # http://127.0.0.1:PORT
    url: str  # the webhook URL
    http: aiohttp.ClientSession
    stop: asyncio.Event
    task: asyncio.Task[None]


@pytest.fixture
async def webhook_bot(database_url: str) -> AsyncIterator[Running]:
    async with SandboxServer() as api, aiohttp.ClientSession() as http:
        settings = make_settings(database_url, api.base_url)
        application = build_application(settings, migrate_on_start=False, scheduler=False)
        install_context_handler(application)
        port = free_port()
        url, path = webhook_route(f"http://127.0.0.1:{port}")
        server = WebServer(
            application, listen="127.0.0.1", port=port, secret=SECRET, webhook_path=path
        )
        stop = asyncio.Event()
        task = asyncio.create_task(
            serve(
                application,
                server=server,
                webhook=(url, SECRET),
                settings=settings,
                stop=stop,
                signals=False,
            )
        )
        try:
            await api.wait_until(lambda: api.bot().webhook.url == url, timeout=10)
            yield Running(api, application, f"http://127.0.0.1:{port}", url, http, stop, task)
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
        assert api.violations == [], api.violations


async def test_updates_arrive_by_webhook_and_are_answered(webhook_bot: Running) -> None:
    api = webhook_bot.api
    hook = api.bot().webhook
    assert webhook_bot.url.endswith("/telegram")
    assert hook.secret_token == SECRET
    assert set(hook.allowed_updates or []) >= {"message", "callback_query", "my_chat_member"}
    before = metrics.value("updates_handled_total")
    user = api.add_user("Sanne")
    await api.send_text(user, "/help")
    reply = await api.wait_for_message(user, timeout=10)
    assert reply.text
    assert api.bot().webhook_log and all(a.status == 200 for a in api.bot().webhook_log)
    assert metrics.value("updates_handled_total") >= before + 1
    assert not any(r.method == "getUpdates" for r in api.requests)  # no Updater in this mode


async def test_a_post_without_the_secret_is_refused(webhook_bot: Running) -> None:
    hook = webhook_bot.base + "/telegram"
    body = {"update_id": 999_001, "message": None}
    for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}):
        async with webhook_bot.http.post(hook, json=body, headers=headers) as response:
            assert response.status == 403
    async with webhook_bot.http.post(
        hook, data=b"{not json", headers={SECRET_HEADER: SECRET}
    ) as response:
        assert response.status == 400
    async with webhook_bot.http.post(hook, json=[1], headers={SECRET_HEADER: SECRET}) as response:
        assert response.status == 400


async def test_an_update_posted_with_the_secret_is_handled(webhook_bot: Running) -> None:
    api = webhook_bot.api
    user = api.add_user("Omar")
    # the sandbox builds a real update; post it ourselves (as a second Telegram would)
    update = {
        "update_id": 424_242,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": user.id, "type": "private", "first_name": "Omar"},
            "from": {"id": user.id, "is_bot": False, "first_name": "Omar"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    for _ in range(2):  # delivered twice (a retry after a lost answer): handled once
        async with webhook_bot.http.post(
            webhook_bot.base + "/telegram", json=update, headers={SECRET_HEADER: SECRET}
        ) as response:
            assert response.status == 200
    assert (await api.wait_for_message(user, timeout=10)).text
    await handled(webhook_bot, 424_242)
    assert len(api.messages(user)) == 1


async def handled(running: Running, update_id: int) -> InboxRecord:
    """Wait until the inbox row of `update_id` is handled."""
    db = running.app.bot_data.database()

    async def row() -> InboxRecord | None:
        async with db.transaction() as s:
            found = await InboxRepo(s).get(update_id)
        return found if found is not None and found.status == "handled" else None

    return await eventually(row, 10, f"update {update_id} handled")


@asynccontextmanager
async def write_lock(database_url: str) -> AsyncIterator[None]:
    """Another connection holds the inbox against writers (a database that stalls)."""
    if database_url.startswith("sqlite"):
        blocker = sqlite3.connect(
            make_url(database_url).database or "", isolation_level=None, check_same_thread=False
        )
        await asyncio.to_thread(blocker.execute, "BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            await asyncio.to_thread(blocker.execute, "COMMIT")
            blocker.close()
        return
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute("LOCK TABLE inbox IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            await transaction.commit()
    finally:
        await conn.close()


async def test_a_webhook_request_that_times_out_is_redelivered_and_handled_once(
    webhook_bot: Running, database_url: str
) -> None:
    api = webhook_bot.api
    api.webhooks.timeout = 0.5  # seconds the Bot API server waits for our 200
    user = api.add_user("Timo")
    attempts = api.bot().webhook_log
    async with write_lock(database_url):
        update_id = await api.send_text(user, "/help")
        # the update cannot be stored, so no 200: the server gives up and tries again
        await api.wait_until(lambda: sum(a.update_id == update_id for a in attempts) >= 2, 10)
    await api.wait_until(lambda: any(a.status == 200 for a in attempts), 10)
    mine = [a for a in attempts if a.update_id == update_id]
    assert mine[0].status is None and "Timeout" in (mine[0].error or "")
    await handled(webhook_bot, update_id)
    assert len(api.messages(user)) == 1  # one reply: stored and handled once


async def test_healthz_and_metrics(webhook_bot: Running) -> None:
    async with webhook_bot.http.get(webhook_bot.base + "/healthz") as response:
        assert response.status == 200
        assert await response.text() == "ok"
    async with webhook_bot.http.get(webhook_bot.base + "/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        body = await response.text()
    for name in ("updates_handled_total", "outbox_depth", "outbox_oldest_age_seconds"):
        assert f"\n{name} " in body or body.startswith(f"{name} ") or f"# TYPE {name}" in body


async def test_stop_runs_post_shutdown(webhook_bot: Running) -> None:
    assert webhook_bot.app.bot_data.running is not None
    webhook_bot.stop.set()
    await asyncio.wait_for(webhook_bot.task, 10)
    assert webhook_bot.app.bot_data.running is None  # sender, scheduler, database closed
    assert not webhook_bot.app.running


async def test_log_lines_of_a_handler_carry_the_update_id(webhook_bot: Running) -> None:
    seen: list[int] = []
    probed = asyncio.Event()
    probe = logging.getLogger("tests.probe")

    async def log_it(update: Update, _context: object) -> None:
        seen.append(update.update_id)
        probe.info("probe handled")
        probed.set()

    webhook_bot.app.add_handler(TypeHandler(Update, log_it), group=50)
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging(webhook_bot.app.bot_data.config(), stream)
    try:
        user = webhook_bot.api.add_user("Lina")
        update_id = await webhook_bot.api.send_text(user, "hallo daar, geheime inhoud")
        await webhook_bot.api.wait_for_message(user, timeout=10)
        await asyncio.wait_for(probed.wait(), 10)  # the probe runs after the reply (group 50)
        assert seen == [update_id]
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    lines = [line for line in stream.getvalue().splitlines() if "probe handled" in line]
    assert lines and lines[0].endswith(f"tests.probe probe handled update={update_id}"), lines
    assert "geheime inhoud" not in stream.getvalue()  # message contents never at INFO


# --- health without a running bot ------------------------------------------------------------


async def _get(app: Any, path: str) -> tuple[int, str]:
    server = WebServer(app, listen="127.0.0.1", port=0)
    port = await server.start()
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}{path}") as response,
        ):
            return response.status, await response.text()
    finally:
        await server.stop()


async def test_healthz_is_503_before_the_database_is_open() -> None:
    application = SimpleNamespace(bot_data=SimpleNamespace(db=None))
    assert (await _get(application, "/healthz"))[0] == 503
    status, body = await _get(application, "/metrics")  # metrics work regardless
    assert status == 200 and "updates_handled_total" in body


async def test_healthz_is_503_when_the_database_refuses() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    db = Database(f"postgresql+asyncpg://nobody@127.0.0.1:{port}/none")
    try:
        application = SimpleNamespace(bot_data=SimpleNamespace(db=db))
        assert (await _get(application, "/healthz"))[0] == 503
    finally:
        await db.dispose()


async def test_a_database_that_hangs_is_unhealthy_after_the_timeout() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def hang(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # accept, never answer

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    db = Database(f"postgresql+asyncpg://nobody@127.0.0.1:{port}/none")
    try:
        assert not await database_ok(db, timeout=0.3)
        assert accepted  # it really connected and waited
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        with contextlib.suppress(Exception):
            await db.dispose()


async def test_healthz_is_200_only_while_the_lease_is_fresh(database_url: str) -> None:
    db = Database(database_url)
    clock = [100.0]
    lease = LeaseKeeper(db, "web-test", ttl=10, monotonic=lambda: clock[0])
    application = SimpleNamespace(bot_data=SimpleNamespace(db=db, running=None))
    try:
        assert await _get(application, "/healthz") == (503, "lease not renewed")
        await lease.start()
        application.bot_data.running = SimpleNamespace(lease=lease)
        assert await _get(application, "/healthz") == (200, "ok")
        clock[0] += 9.9
        assert await _get(application, "/healthz") == (200, "ok")
        clock[0] += 0.2  # no renewal for longer than the ttl: others will take its work
        assert await _get(application, "/healthz") == (503, "lease not renewed")
        await lease.renew()
        assert await _get(application, "/healthz") == (200, "ok")
    finally:
        await lease.stop()
        await db.dispose()


def test_a_webhook_route_needs_a_secret() -> None:
    with pytest.raises(ValueError):
        build_web_app(SimpleNamespace(), secret=None, webhook_path="/telegram")


async def test_a_port_in_use_is_a_clear_startup_error(database_url: str) -> None:
    async with SandboxServer() as api:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            settings = make_settings(database_url, api.base_url)
            application = build_application(settings, migrate_on_start=False, scheduler=False)
            server = WebServer(
                application, listen="127.0.0.1", port=port, secret=SECRET, webhook_path="/t"
            )
            with pytest.raises(StartupError, match=r"cannot listen on 127\.0\.0\.1:"):
                await serve(
                    application,
                    server=server,
                    webhook=(f"http://127.0.0.1:{port}/t", SECRET),
                    settings=settings,
                    signals=False,
                )
        assert application.bot_data.running is None  # post_shutdown closed what started
        assert not application.running


async def test_a_stop_during_a_hanging_start_ends_it() -> None:
    """The database accepts the connection and never answers: a stop still ends `serve`."""
    accepted: list[asyncio.StreamWriter] = []
    connected = asyncio.Event()

    async def hang(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)
        connected.set()

    db_server = await asyncio.start_server(hang, "127.0.0.1", 0)
    db_port = db_server.sockets[0].getsockname()[1]
    try:
        async with SandboxServer() as api:
            settings = make_settings(
                f"postgresql+asyncpg://nobody@127.0.0.1:{db_port}/none", api.base_url
            )
            application = build_application(settings, scheduler=False)  # migrates on start
            stop = asyncio.Event()
            task = asyncio.create_task(
                serve(
                    application,
                    server=None,
                    webhook=None,
                    settings=settings,
                    stop=stop,
                    signals=False,
                )
            )
            await asyncio.wait_for(connected.wait(), 10)  # post_init is stuck in the database
            stop.set()
            await asyncio.wait_for(task, 10)
            assert not application.running
    finally:
        for writer in accepted:
            writer.close()
        db_server.close()
