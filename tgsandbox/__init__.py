"""A local Telegram Bot API server for end-to-end tests and the demo (see README.md)."""

from tgsandbox.botstate import BotState, CallbackAnswer, WebhookAttempt
from tgsandbox.server import DEFAULT_TOKEN, DEFAULT_USERNAME, SandboxServer
from tgsandbox.validator import decode_params, validate_request
from tgsandbox.world import SandboxChat, SandboxUser, SentMessage, StoredFile

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
