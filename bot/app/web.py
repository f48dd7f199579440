"""The bot's own web server (aiohttp): the Telegram webhook, `/healthz` and `/metrics`.

python-telegram-bot's "custom webhook bot" pattern: Telegram POSTs each update to
`POST <path>`; the request must carry the secret given to `setWebhook` in the
`X-Telegram-Bot-Api-Secret-Token` header (403 otherwise); the update is parsed with
`Update.de_json`, stored in the inbox (bot.runtime.inbox), and only then answered 200: an update
acknowledged to Telegram is in the database, whatever happens to this process next. When it
cannot be stored the answer is 500, and Telegram delivers it again (here or elsewhere).

`/healthz` answers 200 `ok` when the database answers `SELECT 1` within 2 s and this instance's
lease is fresh (bot.runtime.lease), 503 otherwise (also before the services started and after
they stopped). `/metrics` is the Prometheus exposition of
`bot.metrics`, with the outbox gauges refreshed first when the database answers quickly.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from telegram import Update

from bot import metrics
from storage.db import Database
from storage.repos.outbox import OutboxRepo

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_WEBHOOK_PATH = "/telegram"
HEALTH_TIMEOUT = 2.0  # seconds the database may take to answer SELECT 1
GAUGE_TIMEOUT = 1.0  # seconds /metrics waits for fresh outbox gauges before rendering anyway
MAX_UPDATE_BYTES = 1 << 20  # an update is a few kB; Telegram never sends more than this

APP_KEY: web.AppKey[Any] = web.AppKey("application")
SECRET_KEY: web.AppKey[str | None] = web.AppKey("secret")


def _database(application: Any) -> Database | None:
    state = application.bot_data
    return getattr(state, "db", None)


async def database_ok(db: Database | None, timeout: float = HEALTH_TIMEOUT) -> bool:  # noqa: ASYNC109
    """Whether the database answers `SELECT 1` within `timeout` seconds."""
    if db is None:
        return False

    try:
        await asyncio.wait_for(db.ping(), timeout)
    except Exception as exc:  # TimeoutError, OSError, driver errors: all mean "not healthy"
        log.warning("health check failed: %s", type(exc).__name__)
        return False
    return True


async def refresh_outbox_gauges(db: Database | None, timeout: float = GAUGE_TIMEOUT) -> None:  # noqa: ASYNC109
    """Set the outbox depth and age gauges from the database (skipped when it is slow)."""
    if db is None:
        return

    async def read() -> None:
        async with db.transaction() as session:
            repo = OutboxRepo(session)
            depth = await repo.depth()
            age = await repo.oldest_pending_age(datetime.now(UTC))
        metrics.OUTBOX_DEPTH.set(depth)
        metrics.OUTBOX_OLDEST_AGE.set(age)

    try:
        await asyncio.wait_for(read(), timeout)
    except Exception as exc:  # the last values the sender set are served instead
        log.debug("outbox gauges not refreshed: %s", type(exc).__name__)


def _lease_fresh(application: Any) -> bool:
    running = getattr(application.bot_data, "running", None)
    return running is not None and running.lease.fresh()


async def healthz(request: web.Request) -> web.Response:
    application = request.app[APP_KEY]
    if not await database_ok(_database(application)):
        return web.Response(status=503, text="database not answering")
    if not _lease_fresh(application):
        return web.Response(status=503, text="lease not renewed")
    return web.Response(text="ok")


async def metrics_view(request: web.Request) -> web.Response:
    await refresh_outbox_gauges(_database(request.app[APP_KEY]))
    response = web.Response(body=metrics.render())
    response.headers["Content-Type"] = metrics.CONTENT_TYPE
    return response


async def telegram_update(request: web.Request) -> web.Response:
    """One update from Telegram: check the secret, parse, store, then answer 200."""
    secret = request.app[SECRET_KEY]
    given = request.headers.get(SECRET_HEADER, "")
    if not isinstance(secret, str) or not hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), secret.encode("utf-8")
    ):
        log.warning("webhook request rejected: wrong or missing secret token")
        return web.Response(status=403, text="forbidden")
    application = request.app[APP_KEY]
    running = getattr(application.bot_data, "running", None)
    if not getattr(application, "running", False) or running is None or running.inbox is None:
        # Stopping: Telegram (or the load balancer) tries again, possibly on another instance.
        return web.Response(status=503, text="stopping")
    try:
        data = json.loads(await request.read())
        if not isinstance(data, dict):
            raise ValueError("an update is a JSON object")
        update = Update.de_json(data, application.bot)
    except Exception as exc:
        log.warning("webhook request rejected: bad update (%s)", type(exc).__name__)
        return web.Response(status=400, text="bad update")
    try:
        await running.inbox.receive([update], [data])
    except Exception as exc:  # not stored: Telegram must deliver it again
        log.error("webhook update not stored: %s", type(exc).__name__)
        return web.Response(status=500, text="not stored")
    return web.Response(text="ok")


def build_web_app(
    application: Any, *, secret: str | None = None, webhook_path: str | None = None
) -> web.Application:
    """The aiohttp app: health and metrics always; the webhook route when a path is given.

    `secret` is required with `webhook_path`: without it anyone could post updates."""
    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app[APP_KEY] = application
    app[SECRET_KEY] = secret
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_view)
    if webhook_path is not None:
        if not secret:
            raise ValueError("a webhook route needs a secret token")
        app.router.add_post(webhook_path, telegram_update)
    return app


class WebServer:
    """The aiohttp server of a running bot: `await start()`, `await stop()`."""

    def __init__(
        self,
        application: Any,
        *,
        listen: str,
        port: int,
        secret: str | None = None,
        webhook_path: str | None = None,
        shutdown_timeout: float = 2.0,
    ) -> None:
        self.app = build_web_app(application, secret=secret, webhook_path=webhook_path)
        self.listen, self.port = listen, port
        self._runner = web.AppRunner(
            self.app, access_log=None, shutdown_timeout=shutdown_timeout, handle_signals=False
        )

    async def start(self) -> int:
        """Listen; returns the port (the real one when 0 was asked for)."""
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen, self.port)
        await site.start()
        addresses = self._runner.addresses
        if addresses:
            self.port = int(addresses[0][1])
        log.info("web server listening address=%s port=%s", self.listen, self.port)
        return self.port

    async def stop(self) -> None:
        """Stop accepting connections and let the requests being served finish."""
        await self._runner.cleanup()
