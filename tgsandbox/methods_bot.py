"""Handlers of the bot-level methods: identity, updates (long polling and webhook), commands,
chats and members."""

from __future__ import annotations

import json
from typing import Any

from tgsandbox.botstate import Webhook
from tgsandbox.calls import ApiError, Call, handles
from tgsandbox.world import SandboxChat

_POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
_WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)


@handles("getMe")
async def get_me(call: Call) -> dict[str, Any]:
    """The bot's User object with the bot-only flags."""
    return call.bot.user.to_dict() | {
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@handles("getUpdates")
async def get_updates(call: Call) -> list[dict[str, Any]]:
    """Long polling: confirm by offset, then wait up to `timeout` s for updates.

    A newer getUpdates call ends a waiting older one with 409, like Telegram does.
    """
    bot, params = call.bot, call.params
    if bot.webhook_active:
        raise ApiError(409, _WEBHOOK_CONFLICT)
    ticket = object()
    bot.poller = ticket
    bot.updates_changed.notify()  # wakes an older poller, which sees it lost the ticket
    if "allowed_updates" in params:
        bot.allowed_updates = params["allowed_updates"]
    offset = params.get("offset")
    if offset is not None and offset < 0:
        bot.updates = bot.updates[offset:]
    elif offset is not None:
        bot.confirm_below(offset)
    limit = min(max(params.get("limit", 100), 1), 100)

    def outcome() -> str | None:
        if bot.poller is not ticket:
            return "conflict"
        if call.server.closing or bot.webhook_active:
            return "empty"
        bot.drop_disallowed()
        return "ready" if bot.updates else None

    try:
        state = await bot.updates_changed.wait_until(outcome, max(params.get("timeout", 0), 0))
    except TimeoutError:
        state = "empty"
    if state == "conflict":
        raise ApiError(409, _POLL_CONFLICT)
    if bot.poller is ticket:
        bot.poller = None
    batch = bot.updates[:limit] if state == "ready" else []
    bot.mark_delivered(u["update_id"] for u in batch)
    return batch


@handles("setWebhook")
async def set_webhook(call: Call) -> bool:
    """Set (or with url="" remove) the webhook and start delivering to it."""
    bot, params = call.bot, call.params
    if params.get("drop_pending_updates"):
        bot.updates.clear()
    if not params["url"]:
        return await delete_webhook(call)
    bot.webhook = Webhook(
        url=params["url"],
        secret_token=params.get("secret_token"),
        max_connections=params.get("max_connections", 40),
        allowed_updates=params.get("allowed_updates"),
        ip_address=params.get("ip_address"),
    )
    if "allowed_updates" in params:
        bot.allowed_updates = params["allowed_updates"]
    bot.updates_changed.notify()  # a waiting getUpdates returns
    call.server.webhooks.start(bot)
    return True


@handles("deleteWebhook")
async def delete_webhook(call: Call) -> bool:
    """Stop webhook delivery; pending updates stay for getUpdates unless dropped."""
    if call.params.get("drop_pending_updates"):
        call.bot.updates.clear()
    call.bot.webhook = Webhook()
    await call.server.webhooks.stop(call.bot)
    return True


@handles("getWebhookInfo")
async def get_webhook_info(call: Call) -> dict[str, Any]:
    """The WebhookInfo object."""
    hook = call.bot.webhook
    info: dict[str, Any] = {
        "url": hook.url,
        "has_custom_certificate": False,
        "pending_update_count": len(call.bot.updates),
    }
    if hook.url:
        info["max_connections"] = hook.max_connections
        if hook.ip_address:
            info["ip_address"] = hook.ip_address
        if hook.allowed_updates is not None:
            info["allowed_updates"] = hook.allowed_updates
    if hook.last_error_date is not None:
        info["last_error_date"] = hook.last_error_date
        info["last_error_message"] = hook.last_error_message
    return info


def commands_key(params: dict[str, Any]) -> tuple[str, str]:
    """Commands are stored per scope and language, like Telegram."""
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.get("language_code") or ""


@handles("setMyCommands")
async def set_my_commands(call: Call) -> bool:
    """Store the command list for (scope, language_code)."""
    if len(call.params["commands"]) > 100:
        raise ApiError(400, "Bad Request: too many commands")
    call.bot.commands[commands_key(call.params)] = list(call.params["commands"])
    return True


@handles("getMyCommands")
async def get_my_commands(call: Call) -> list[dict[str, Any]]:
    """The list for exactly this (scope, language_code) — Telegram does not fall back here."""
    return call.bot.commands.get(commands_key(call.params), [])


@handles("deleteMyCommands")
async def delete_my_commands(call: Call) -> bool:
    """Remove the list for (scope, language_code)."""
    call.bot.commands.pop(commands_key(call.params), None)
    return True


@handles("getChat")
async def get_chat(call: Call) -> dict[str, Any]:
    """ChatFullInfo with the fields that are required in Bot API 10.1."""
    gifts = dict.fromkeys(
        (
            "unlimited_gifts",
            "limited_gifts",
            "unique_gifts",
            "premium_subscription",
            "gifts_from_channels",
        ),
        False,
    )
    return call.chat().to_dict() | {
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": gifts,
    }


def _is_member(chat: SandboxChat, user_id: int) -> bool:
    return chat.id == user_id if chat.type == "private" else user_id in chat.members


@handles("getChatMember")
async def get_chat_member(call: Call) -> dict[str, Any]:
    """ "member" or "left" (the bot itself is an administrator in groups it is in)."""
    chat, user_id = call.chat(), call.params["user_id"]
    if user_id == call.bot.user.id:
        user = call.bot.user
    elif user_id in call.world.users:
        user = call.world.users[user_id]
    else:
        raise ApiError(400, "Bad Request: user not found")
    if not _is_member(chat, user_id) and not (user_id == call.bot.user.id and chat.is_group):
        return {"status": "left", "user": user.to_dict()}
    if user.is_bot and chat.is_group:
        return {"status": "administrator", "user": user.to_dict(), **_ADMIN_RIGHTS}
    return {"status": "member", "user": user.to_dict()}


_ADMIN_RIGHTS = dict.fromkeys(
    (
        "can_be_edited",
        "is_anonymous",
        "can_manage_chat",
        "can_delete_messages",
        "can_manage_video_chats",
        "can_restrict_members",
        "can_promote_members",
        "can_change_info",
        "can_invite_users",
        "can_post_stories",
        "can_edit_stories",
        "can_delete_stories",
    ),
    False,
)


@handles("getChatMemberCount")
async def get_chat_member_count(call: Call) -> int:
    """Members of a group (2 for a private chat: the user and the bot)."""
    chat = call.chat()
    return 2 if chat.type == "private" else len(chat.members) + 1


@handles("close", "logOut")
async def close_or_log_out(call: Call) -> bool:
    """Record it; the sandbox keeps serving the token (tests may restart the bot)."""
    if call.method == "close":
        call.bot.closed = True
    else:
        call.bot.logged_out = True
    return True
