"""The context of one API call, the error type, and rendering of stored messages as JSON."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tgsandbox.botstate import BotState
from tgsandbox.validator import UploadedFile
from tgsandbox.world import SandboxChat, SentMessage, StoredFile, World

if TYPE_CHECKING:
    from tgsandbox.server import SandboxServer


class ApiError(Exception):
    """An error answer: `{"ok": false, "error_code": status, "description": ...}`."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def chat_not_found() -> ApiError:
    """Telegram's answer for an unknown chat_id."""
    return ApiError(400, "Bad Request: chat not found")


@dataclass
class Call:
    """One validated request on its way to a method handler."""

    server: SandboxServer
    bot: BotState
    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)

    @property
    def world(self) -> World:
        """Users and groups."""
        return self.server.world

    def chat(self, key: str = "chat_id") -> SandboxChat:
        """The chat named by parameter `key`; 400 chat not found if unknown."""
        chat = self.world.chat(self.params[key])
        if chat is None:
            raise chat_not_found()
        return chat

    def stored_file(self, key: str) -> StoredFile:
        """Parameter `key` as a file: an upload, attach://name, a known file_id or a URL."""
        value = self.params[key]
        if isinstance(value, str) and value.startswith("attach://"):
            value = self.files[value.removeprefix("attach://")]
        if isinstance(value, UploadedFile):
            return self._store(value.filename, value.data, value.content_type)
        if value in self.bot.files:
            return self.bot.files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            stored = self._store(value.rsplit("/", 1)[-1] or None, b"", None)
            stored.url = value
            return stored
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _store(self, filename: str | None, data: bytes, mime: str | None) -> StoredFile:
        unique = uuid.uuid4().hex[:16]
        stored = StoredFile(f"BQAC{uuid.uuid4().hex}", unique, filename, data, mime)
        self.bot.files[stored.file_id] = stored
        return stored


Handler = Callable[[Call], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {}


def handles(*methods: str) -> Callable[[Handler], Handler]:
    """Register a coroutine as the handler of Bot API `methods`."""

    def register(func: Handler) -> Handler:
        for method in methods:
            HANDLERS[method] = func
        return func

    return register


def render_message(
    bot: BotState, world: World, message: SentMessage, *, nested: bool = True
) -> dict[str, Any]:
    """A stored message as the Telegram `Message` object."""
    chat = world.chat(message.chat_id)
    sender = message.from_user or bot.user
    data: dict[str, Any] = {
        "message_id": message.message_id,
        "from": sender.to_dict(),
        "chat": chat.to_dict() if chat else {"id": message.chat_id, "type": "private"},
        "date": message.date,
    }
    if message.text is not None:
        data["text"] = message.text
        if message.entities:
            data["entities"] = message.entities
    if message.caption is not None:
        data["caption"] = message.caption
        if message.entities:
            data["caption_entities"] = message.entities
    if message.document is not None:
        data["document"] = message.document.document_dict()
    if message.photo is not None:
        data["photo"] = message.photo.photo_sizes()
    # Telegram echoes only inline keyboards; reply keyboards live in the client.
    if message.reply_markup and "inline_keyboard" in message.reply_markup:
        data["reply_markup"] = message.reply_markup
    if message.edit_date is not None:
        data["edit_date"] = message.edit_date
    data.update(message.extra)
    if nested and message.reply_to_message_id is not None:
        replied = bot.find_message(message.chat_id, message.reply_to_message_id)
        if replied is not None:
            data["reply_to_message"] = render_message(bot, world, replied, nested=False)
    return data
