"""A local Telegram Bot API server for end-to-end tests and the demo (see README.md)."""

from bot.sandbox.botstate import BotState, CallbackAnswer, WebhookAttempt
from bot.sandbox.server import DEFAULT_TOKEN, DEFAULT_USERNAME, SandboxServer
from bot.sandbox.validator import decode_params, validate_request
from bot.sandbox.world import SandboxChat, SandboxUser, SentMessage, StoredFile

__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_USERNAME",
    "BotState",
    "CallbackAnswer",
    "SandboxChat",
    "SandboxServer",
    "SandboxUser",
    "SentMessage",
    "StoredFile",
    "WebhookAttempt",
    "decode_params",
    "validate_request",
]
