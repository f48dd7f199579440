"""Realistic incoming updates: what a user does in the Telegram client, as the bot receives it."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

from tgsandbox.botstate import BotState, PendingCallback
from tgsandbox.calls import render_message
from tgsandbox.formatting import utf16_len
from tgsandbox.world import SandboxChat, SandboxUser, SentMessage, StoredFile, now

if TYPE_CHECKING:
    from tgsandbox.server import SandboxServer

# Telegram marks every /command (optionally /command@botname) as a bot_command entity.
_COMMAND = re.compile(r"(?<![^\s])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
# The smallest valid PNG (1x1), used when a test does not care about the image.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def command_entities(text: str) -> list[dict[str, Any]]:
    """bot_command entities with UTF-16 offsets."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m[0])}
        for m in _COMMAND.finditer(text)
    ]


class Injector:
    """Builds and queues updates for one server; SandboxServer exposes these as its methods."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server

    async def _queue(self, bot: BotState, kind: str, payload: dict[str, Any]) -> int:
        update_id = bot.enqueue(kind, payload)
        self.server.changed.notify()
        # Let a waiting getUpdates / webhook worker run before the test goes on.
        await asyncio.sleep(0)
        return update_id

    def _chat(self, user: SandboxUser, chat: SandboxChat | None) -> SandboxChat:
        return chat if chat is not None else SandboxChat.private(user)

    def user_message(
        self,
        bot: BotState,
        user: SandboxUser,
        chat: SandboxChat | None,
        reply_to: SentMessage | int | None = None,
        **content: Any,
    ) -> SentMessage:
        """Record a message that `user` writes in `chat` (default: the private chat)."""
        target = self._chat(user, chat)
        message = SentMessage(
            message_id=bot.next_message_id(target.id),
            chat_id=target.id,
            date=now(),
            kind="user",
            from_user=user,
            reply_to_message_id=reply_to.message_id
            if isinstance(reply_to, SentMessage)
            else reply_to,
            **content,
        )
        return bot.record(message)

    async def message(self, bot: BotState, message: SentMessage) -> int:
        """Queue a `message` update for a recorded user message."""
        return await self._queue(bot, "message", render_message(bot, self.server.world, message))

    async def send_text(
        self,
        bot: BotState,
        user: SandboxUser,
        text: str,
        chat: SandboxChat | None = None,
        reply_to: SentMessage | int | None = None,
    ) -> int:
        """The user types `text` (commands get bot_command entities)."""
        entities = command_entities(text)
        message = self.user_message(bot, user, chat, reply_to, text=text, entities=entities)
        return await self.message(bot, message)

    def _user_file(self, bot: BotState, data: bytes, filename: str | None, mime: str) -> StoredFile:
        stored = StoredFile(f"AgAC{uuid.uuid4().hex}", uuid.uuid4().hex[:16], filename, data, mime)
        bot.files[stored.file_id] = stored
        return stored

    async def send_media(
        self,
        bot: BotState,
        user: SandboxUser,
        field: str,
        payload: Any,
        chat: SandboxChat | None = None,
        caption: str | None = None,
    ) -> int:
        """Any non-text message: `field` is the Message field (sticker, voice, location...)."""
        message = self.user_message(bot, user, chat, None, caption=caption, extra={field: payload})
        return await self.message(bot, message)

    async def send_sticker(self, bot: BotState, user: SandboxUser, chat: SandboxChat | None) -> int:
        """A regular static sticker."""
        sticker = {
            "file_id": f"CAAC{uuid.uuid4().hex}",
            "file_unique_id": uuid.uuid4().hex[:16],
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return await self.send_media(bot, user, "sticker", sticker, chat)

    async def send_photo(
        self,
        bot: BotState,
        user: SandboxUser,
        chat: SandboxChat | None,
        caption: str | None,
        data: bytes,
    ) -> int:
        """A photo (downloadable through getFile)."""
        stored = self._user_file(bot, data, "photo.png", "image/png")
        return await self.send_media(bot, user, "photo", stored.photo_sizes(), chat, caption)

    async def send_document(
        self,
        bot: BotState,
        user: SandboxUser,
        filename: str,
        data: bytes,
        chat: SandboxChat | None,
        caption: str | None,
    ) -> int:
        """A file sent as a document."""
        stored = self._user_file(bot, data, filename, "application/octet-stream")
        return await self.send_media(bot, user, "document", stored.document_dict(), chat, caption)

    async def send_voice(
        self, bot: BotState, user: SandboxUser, chat: SandboxChat | None, duration: int
    ) -> int:
        """A voice note."""
        stored = self._user_file(bot, b"OggS" + bytes(60), "voice.ogg", "audio/ogg")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(stored.data),
        }
        return await self.send_media(bot, user, "voice", voice, chat)

    async def press_button(
        self, bot: BotState, user: SandboxUser, message: SentMessage, data: str | None
    ) -> str:
        """A tap on an inline button: a callback_query update; returns the query id."""
        query_id = str(uuid.uuid4().int % 10**19)
        bot.pending_callbacks[query_id] = PendingCallback(
            user.id, message.chat_id, message.message_id, data, time.monotonic()
        )
        payload: dict[str, Any] = {
            "id": query_id,
            "from": user.to_dict(),
            "message": render_message(bot, self.server.world, message),
            "chat_instance": str(abs(hash((bot.token, message.chat_id)))),
        }
        if data is not None:
            payload["data"] = data
        await self._queue(bot, "callback_query", payload)
        return query_id

    async def edit_text(self, bot: BotState, message: SentMessage, new_text: str) -> int:
        """The user edits one of their messages: an edited_message update."""
        message.history.append(message.snapshot())
        message.text, message.entities = new_text, command_entities(new_text)
        message.edited, message.edit_date = True, now()
        payload = render_message(bot, self.server.world, message)
        return await self._queue(bot, "edited_message", payload)

    async def member_change(
        self,
        bot: BotState,
        chat: SandboxChat,
        actor: SandboxUser,
        member: SandboxUser,
        statuses: tuple[str, str],
        kind: str = "chat_member",
    ) -> int:
        """A chat_member / my_chat_member update (old status → new status)."""
        payload: dict[str, Any] = {
            "chat": chat.to_dict(),
            "from": actor.to_dict(),
            "date": now(),
            "old_chat_member": {"status": statuses[0], "user": member.to_dict()},
            "new_chat_member": {"status": statuses[1], "user": member.to_dict()},
        }
        if statuses[1] == "kicked":
            payload["new_chat_member"]["until_date"] = 0
        return await self._queue(bot, kind, payload)
