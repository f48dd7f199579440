"""The composition root: builds the python-telegram-bot Application and owns its services."""

from __future__ import annotations

import logging

from telegram.ext import Application, ContextTypes

from bot.outbox.limiter import PriorityLimiter
from bot.outbox.pacing import RateLimiter
from bot.outbox.transport import AiohttpRequest
from bot.plans import default_plan
from bot.runtime.config import Settings
from bot.runtime.context import AppState, MentorApp, MentorContext, StartOptions
from bot.runtime.services import Services
from bot.runtime.updates import PerUserUpdateProcessor
from bot.schedule.clock import Clock
from storage import migrate

log = logging.getLogger(__name__)


def build_application(
    settings: Settings,
    *,
    migrate_on_start: bool = True,
    clock: Clock | None = None,
    scheduler: bool = True,
) -> MentorApp:
    """Wire the bot: API address, typed context, handlers, and the lifecycle hooks."""
    import handlers  # only the composition root imports handlers (see docs/architecture.md)

    context_types = ContextTypes(context=MentorContext, bot_data=AppState)
    api = settings.telegram_api_base_url
    application = (
        Application.builder()
        .token(settings.token())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .context_types(context_types)
        .concurrent_updates(PerUserUpdateProcessor(16))
        .rate_limiter(_limiter(settings))
        # aiohttp, not httpx: a fifth of the CPU per request (bot.outbox.transport); the
        # pool as PTB's default. getUpdates (polling) keeps PTB's own client.
        .request(AiohttpRequest(256))
        # No Updater: it confirms updates before they are handled. Polling and the webhook
        # store them in the inbox first (bot.runtime.inbox, bot.runtime.polling).
        .updater(None)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        .build()
    )
    state: AppState = application.bot_data
    state.settings = settings
    state.options = StartOptions(migrate_on_start, clock, scheduler)
    handlers.register(application)
    return application  # type: ignore[return-value]


def _limiter(settings: Settings) -> PriorityLimiter:
    """The one limiter of the process: the replies' and the outbox's (bot.outbox.limiter)."""
    pacer = RateLimiter(settings.send_rate, per_chat_rate=settings.per_chat_rate)
    return PriorityLimiter(pacer)


async def _post_init(application: Application) -> None:  # type: ignore[type-arg]
    """Open the database (migrating it first) before the first update is handled."""
    state: AppState = application.bot_data
    settings = state.config()
    options = state.options
    if options.migrate_on_start:
        await migrate.upgrade(settings.database_url)
    default_plan()  # parsed now (~0.2 s of YAML), not inside the first round or tap
    services = Services(
        settings, application.bot, options.clock, process=application.process_update
    )
    state.running, state.db = services, services.db
    await services.start(scheduler=options.scheduler)
    await _set_commands(application)
    log.info("mentorbot started as @%s", application.bot.username)


async def _post_stop(application: Application) -> None:  # type: ignore[type-arg]
    """Stop the scheduler and the sender before PTB closes the bot's HTTP client."""
    state: AppState = application.bot_data
    if state.running is not None:
        await state.running.stop_work()


async def _post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
    """Close what post_init opened."""
    state: AppState = application.bot_data
    if state.running is not None:
        await state.running.stop()
        state.running, state.db = None, None


async def _set_commands(application: Application) -> None:  # type: ignore[type-arg]
    from bot.runtime.commands import publish_default_commands

    await publish_default_commands(application.bot)
