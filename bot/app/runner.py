"""Running the bot: long polling by default, webhooks (with our own web server) when a URL is
given. SIGTERM and SIGINT stop it cleanly: no new updates are taken, the ones already taken are
handled to the end, the outbox sender and the scheduler stop (post_shutdown), within 10 s.

The Application has no Updater: every update is stored in the inbox (bot.runtime.inbox) before
Telegram is told it arrived, by our own polling loop (bot.runtime.polling) or by the webhook
(`bot.app.web`, python-telegram-bot's "custom webhook bot" pattern), and handled from there.
The same server answers `/healthz` and `/metrics`. In polling mode that server runs only when
`MENTORBOT_HEALTH_PORT` is set (`MENTORBOT_HEALTH_LISTEN`, default 0.0.0.0, is its address).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import sys
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from telegram import Update

from bot.app.application import build_application
from bot.app.web import DEFAULT_WEBHOOK_PATH, WebServer
from bot.runtime.config import Settings
from bot.runtime.context import AppState
from bot.runtime.logs import install_context_handler, redact_also
from bot.runtime.polling import Poller

log = logging.getLogger(__name__)

STOP_BUDGET = 9.0  # seconds from the signal to the end of shutdown (the promise is 10)
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token


class StartupError(Exception):
    """A problem with the options; the message is one line fit for the operator."""


def webhook_route(webhook_url: str, path: str | None = None) -> tuple[str, str]:
    """(URL to give Telegram, local path to serve).

    The local path is `path` (MENTORBOT_WEBHOOK_PATH, for a proxy that rewrites paths), else
    the URL's own path; a URL without a path gets `/telegram` appended."""
    parts = urlsplit(webhook_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StartupError(f"--webhook-url: {webhook_url!r} is not an http(s) URL")
    url = webhook_url
    if parts.path in ("", "/"):
        url = urlunsplit(parts._replace(path=DEFAULT_WEBHOOK_PATH))
    local = path or urlsplit(url).path
    if not local.startswith("/"):
        local = "/" + local
    return url, local


def check_secret(secret: str | None) -> str:
    if not secret:
        raise StartupError(
            "--secret (or MENTORBOT_WEBHOOK_SECRET) is required with --webhook-url "
            "(1-256 characters: A-Z a-z 0-9 _ -)"
        )
    if not _SECRET_RE.match(secret):
        raise StartupError("--secret: use 1-256 characters from A-Z a-z 0-9 _ -")
    return secret


def health_port_from_env() -> int | None:
    raw = os.environ.get("MENTORBOT_HEALTH_PORT", "").strip()
    if not raw:
        return None
    try:
        port = int(raw)
    except ValueError:
        raise StartupError(f"MENTORBOT_HEALTH_PORT: {raw!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise StartupError(f"MENTORBOT_HEALTH_PORT: {port} is not a port number")
    return port


def run_bot(
    settings: Settings,
    *,
    webhook_url: str | None = None,
    port: int = 8443,
    secret: str | None = None,
    listen: str = "0.0.0.0",
) -> None:
    """Block until the bot is stopped (SIGINT/SIGTERM stop it cleanly)."""
    try:
        route = None
        if webhook_url:
            route = webhook_route(webhook_url, os.environ.get("MENTORBOT_WEBHOOK_PATH") or None)
            # from the environment, the secret stays out of the process list
            secret = check_secret(secret or os.environ.get("MENTORBOT_WEBHOOK_SECRET"))
            redact_also(secret)
        health_port = None if route else health_port_from_env()
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    application = build_application(settings)
    install_context_handler(application)
    if route is not None:
        url, path = route
        server: WebServer | None = WebServer(
            application, listen=listen, port=port, secret=secret, webhook_path=path
        )
        main = serve(application, server=server, webhook=(url, secret), settings=settings)
    else:
        server = None
        if health_port is not None:
            address = os.environ.get("MENTORBOT_HEALTH_LISTEN", "0.0.0.0")
            server = WebServer(application, listen=address, port=health_port)
        main = serve(application, server=server, webhook=None, settings=settings)
    try:
        asyncio.run(main)
    except StartupError as exc:
        log.error("mentorbot could not start: %s", exc)
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


async def serve(
    application: Any,
    *,
    server: WebServer | None,
    webhook: tuple[str, str | None] | None,
    settings: Settings,
    stop: asyncio.Event | None = None,
    signals: bool = True,
) -> None:
    """Run `application` until `stop` is set or SIGTERM/SIGINT arrives, then shut down.

    Webhook mode when `webhook` = (url, secret) is given (the Updater is never started),
    long polling otherwise; `server` (if any) serves health, metrics and the webhook.
    `signals=False` leaves SIGTERM/SIGINT alone (tests that run the bot in their own loop)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT) if signals else ():
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, _on_signal, sig, stop)
            installed.append(sig)
    started = asyncio.Event()  # set once application.start() returned
    pollers: list[Poller] = []

    async def start() -> None:
        await application.initialize()
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        started.set()
        if server is not None:
            try:  # ready for updates before Telegram is told where to send them
                await server.start()
            except OSError as exc:
                raise StartupError(
                    f"cannot listen on {server.listen}:{server.port}: {exc.strerror or exc}"
                ) from None
        if webhook is not None:
            url, secret = webhook
            await application.bot.set_webhook(
                url, secret_token=secret, allowed_updates=Update.ALL_TYPES
            )
        else:
            state: AppState = application.bot_data
            inbox = state.live().inbox
            assert inbox is not None
            pollers.append(Poller(application.bot, inbox))
            await pollers[0].start()
        log.info("mentorbot running mode=%s", "webhook" if webhook else "polling")

    # A signal during a slow start (a database that does not answer) stops it too.
    starting = asyncio.create_task(start(), name="mentorbot-start")
    stopping = asyncio.create_task(stop.wait(), name="mentorbot-stop-signal")
    try:
        try:
            await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not starting.done():
                starting.cancel()
                log.warning("stopped while starting")
            with contextlib.suppress(asyncio.CancelledError):
                await starting  # raises what went wrong while starting
        await stopping
        log.info("mentorbot stopping")
    finally:
        if not stopping.done():
            stopping.cancel()
        try:
            await asyncio.wait_for(
                _shutdown(application, server, pollers, webhook, settings, started.is_set()),
                STOP_BUDGET,
            )
        except TimeoutError:
            log.error("shutdown took longer than %.0fs; exiting anyway", STOP_BUDGET)
        for sig in installed:
            loop.remove_signal_handler(sig)
    log.info("mentorbot stopped")


def _on_signal(sig: signal.Signals, stop: asyncio.Event) -> None:
    if stop.is_set():
        log.warning("second %s: still shutting down", sig.name)
        return
    log.info("received %s, shutting down", sig.name)
    stop.set()


async def _shutdown(
    application: Any,
    server: WebServer | None,
    pollers: list[Poller],
    webhook: tuple[str, str | None] | None,
    settings: Settings,
    started: bool,
) -> None:
    """The reverse of start, each step guarded so that a failing one does not skip the rest.

    The web server goes first (no new updates; Telegram retries elsewhere), then the poller,
    then the application, then post_stop (bot.runtime.services) lets the updates being handled
    finish (what is stored but not handled waits in the inbox for the next start), stops the
    outbox sender (its requests in flight finish and are recorded), the scheduler and the
    database, and last Application.shutdown() closes the bot's HTTP client."""
    steps: list[tuple[str, Any]] = []
    if server is not None:
        steps.append(("web server", server.stop))
    for poller in pollers:
        steps.append(("poller", poller.stop))
    if started and application.running:
        steps.append(("application", application.stop))
        if application.post_stop is not None:
            steps.append(("post_stop", lambda: application.post_stop(application)))
    if webhook is not None and settings.delete_on_stop:
        steps.append(("deleteWebhook", application.bot.delete_webhook))
    # post_shutdown stops the outbox sender, whose requests in flight use the bot's HTTP
    # client: it must finish them (and record them) before Application.shutdown() closes that
    # client. So here it runs *before* shutdown, unlike in PTB's run_polling/run_webhook.
    if application.post_shutdown is not None:
        steps.append(("post_shutdown", lambda: application.post_shutdown(application)))
    steps.append(("application shutdown", application.shutdown))
    for name, step in steps:
        try:
            await step()
        except Exception as exc:
            log.error("shutdown step failed step=%s error=%s", name, type(exc).__name__)
