"""The simulated Telegram world: users, chats, stored files and the messages a bot sent.

Each record knows how to render itself as the JSON object Telegram would send, so that both the
method answers (`sendMessage` → Message) and injected updates use one shape.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


def now() -> int:
    """Unix time as Telegram stamps it (whole seconds)."""
    return int(time.time())


@dataclass
class SandboxUser:
    """A human (or bot) account."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "nl"
    is_bot: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The Telegram `User` object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    @property
    def full_name(self) -> str:
        """First and last name, as clients show it."""
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@dataclass
class SandboxChat:
    """A private chat (id == user id), a group or a supergroup."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    members: set[int] = field(default_factory=set)

    @classmethod
    def private(cls, user: SandboxUser) -> SandboxChat:
        """The private chat between `user` and a bot."""
        return cls(user.id, "private", None, user.username, user.first_name, user.last_name)

    def to_dict(self) -> dict[str, Any]:
        """The Telegram `Chat` object."""
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    @property
    def is_group(self) -> bool:
        """Groups and supergroups have their own (per minute) rate limit."""
        return self.type in ("group", "supergroup")


@dataclass
class StoredFile:
    """A file the bot uploaded (or a user sent), downloadable via /file/bot<token>/<file_path>."""

    file_id: str
    file_unique_id: str
    filename: str | None
    data: bytes
    mime_type: str | None = None
    url: str | None = None  # when the bot sent a URL instead of bytes

    @property
    def file_path(self) -> str:
        """Path under the file endpoint."""
        return f"files/{self.file_unique_id}/{self.filename or 'file'}"

    def document_dict(self) -> dict[str, Any]:
        """The Telegram `Document` object."""
        data: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.filename:
            data["file_name"] = self.filename
        if self.mime_type:
            data["mime_type"] = self.mime_type
        return data

    def photo_sizes(self) -> list[dict[str, Any]]:
        """The Telegram `Array of PhotoSize` (one size: the original)."""
        width, height = _png_size(self.data) or (1280, 720)
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": len(self.data),
                "width": width,
                "height": height,
            }
        ]


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@dataclass
class SentMessage:
    """A message in a chat as the sandbox recorded it (sent by the bot unless `from_user`)."""

    message_id: int
    chat_id: int
    date: int
    kind: str = "text"  # "text", "document", "photo", or the send method's name
    text: str | None = None  # visible text, markup already parsed
    raw_text: str | None = None  # as the bot sent it
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    reply_markup: dict[str, Any] | None = None
    document: StoredFile | None = None
    photo: StoredFile | None = None
    reply_to_message_id: int | None = None
    edited: bool = False
    edit_date: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier versions
    deleted: bool = False
    from_user: SandboxUser | None = None  # None: sent by the bot
    params: dict[str, Any] = field(default_factory=dict)  # the request that created it
    extra: dict[str, Any] = field(default_factory=dict)  # more Message fields (sticker, ...)

    def buttons(self) -> list[dict[str, Any]]:
        """All inline keyboard buttons, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]

    def button(self, text: str) -> dict[str, Any]:
        """The inline button whose visible text is `text` (KeyError if there is none)."""
        for button in self.buttons():
            if button.get("text") == text:
                return button
        labels = [b.get("text") for b in self.buttons()]
        raise KeyError(f"no button {text!r} in message {self.message_id}; buttons: {labels}")

    @property
    def callback_data(self) -> list[str]:
        """The callback_data of every callback button."""
        return [b["callback_data"] for b in self.buttons() if "callback_data" in b]

    def snapshot(self) -> dict[str, Any]:
        """The editable content, kept in `history` before an edit."""
        return {
            "text": self.text,
            "caption": self.caption,
            "reply_markup": self.reply_markup,
            "date": self.edit_date or self.date,
        }


class IdSource:
    """Increasing ids, shared by every bot of one server so that ids never collide."""

    def __init__(self, start: int) -> None:
        self._counter: Iterator[int] = itertools.count(start)

    def next(self) -> int:
        """The next id."""
        return next(self._counter)


class Notifier:
    """Wakes every waiter when something changed; waiters re-check their own condition.

    Safe to trigger from synchronous code (unlike asyncio.Condition, which needs its lock).
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wake all current waiters."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(
        self,
        check: Callable[[], T | None],
        timeout: float | None,  # noqa: ASYNC109
    ) -> T:
        """Wait until `check()` returns a truthy value and return it; TimeoutError after
        `timeout` seconds (None = forever)."""
        async with asyncio.timeout(timeout):
            result = check()
            while not result:
                await self._event.wait()
                result = check()
            return result


class World:
    """Users and groups, shared by every bot of one server."""

    def __init__(self) -> None:
        self.users: dict[int, SandboxUser] = {}
        self.groups: dict[int, SandboxChat] = {}
        self._user_ids = IdSource(700_000_001)
        self._group_ids = IdSource(1)

    def add_user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "nl",
    ) -> SandboxUser:
        """A new user with a unique, increasing id."""
        user = SandboxUser(self._user_ids.next(), first_name, last_name, username, language_code)
        self.users[user.id] = user
        return user

    def add_group(self, title: str, kind: str = "supergroup") -> SandboxChat:
        """A new group ("group" ids look like -4000000001, supergroups like -1002000000001)."""
        number = self._group_ids.next()
        chat_id = (
            -(1_002_000_000_000 + number) if kind == "supergroup" else -(4_000_000_000 + number)
        )
        group = SandboxChat(chat_id, kind, title=title)
        self.groups[chat_id] = group
        return group

    def chat(self, chat_id: int | str) -> SandboxChat | None:
        """The chat with this id or @username (a user's private chat has the user's id)."""
        if isinstance(chat_id, str):
            if not chat_id.startswith("@"):
                return None
            # Like Telegram: @username works for public groups, not for users' private chats.
            name = chat_id[1:].lower()
            return next(
                (g for g in self.groups.values() if (g.username or "").lower() == name), None
            )
        if chat_id in self.users:
            return SandboxChat.private(self.users[chat_id])
        return self.groups.get(chat_id)
