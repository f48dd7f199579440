"""Everything the sandbox keeps per bot token: identity, update queue, webhook, sent messages."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tgsandbox.world import IdSource, Notifier, SandboxUser, SentMessage, StoredFile

# Telegram's default when allowed_updates is [] or was never set.
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class CallbackAnswer:
    """How the bot answered a callback query (answerCallbackQuery)."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    latency: float  # seconds between the press and the answer


@dataclass
class PendingCallback:
    """A button press that the bot has not answered yet."""

    user_id: int
    chat_id: int
    message_id: int
    data: str | None
    pressed_at: float  # time.monotonic()


@dataclass
class WebhookAttempt:
    """One POST of an update to a webhook target."""

    update_id: int
    url: str
    status: int | None  # HTTP status, None when the connection failed
    error: str | None = None


@dataclass
class Webhook:
    """The bot's webhook as set by setWebhook."""

    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class BotState:
    """One bot (one token) on the sandbox server."""

    token: str
    user: SandboxUser
    updates: list[dict[str, Any]] = field(default_factory=list)  # pending, oldest first
    allowed_updates: list[str] | None = None
    webhook: Webhook = field(default_factory=Webhook)
    webhook_targets: list[str] = field(default_factory=list)  # overrides webhook.url (tests)
    webhook_log: list[WebhookAttempt] = field(default_factory=list)
    commands: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    chats: dict[int, list[SentMessage]] = field(default_factory=lambda: defaultdict(list))
    files: dict[str, StoredFile] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    pending_callbacks: dict[str, PendingCallback] = field(default_factory=dict)
    answered_callbacks: dict[str, CallbackAnswer] = field(default_factory=dict)
    chat_actions: list[tuple[int, str]] = field(default_factory=list)
    delivered_update_ids: list[int] = field(default_factory=list)  # first delivery, in order
    poller: object | None = None  # the getUpdates call currently allowed to wait
    closed: bool = False
    logged_out: bool = False
    update_ids: IdSource = field(default_factory=lambda: IdSource(100_001))
    updates_changed: Notifier = field(default_factory=Notifier)
    _message_ids: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    _delivered: set[int] = field(default_factory=set)

    @property
    def username(self) -> str:
        """The bot's @username without the @."""
        return self.user.username or ""

    @property
    def webhook_active(self) -> bool:
        """True while a webhook is set (then getUpdates answers 409)."""
        return bool(self.webhook.url)

    # --- updates ---------------------------------------------------------------------------

    def enqueue(self, kind: str, payload: dict[str, Any]) -> int:
        """Queue an update of type `kind` (e.g. "message"); returns its update_id."""
        update_id = self.update_ids.next()
        self.updates.append({"update_id": update_id, kind: payload})
        self.updates_changed.notify()
        return update_id

    def is_allowed(self, update: dict[str, Any]) -> bool:
        """Whether the current allowed_updates let this update through."""
        kind = next(key for key in update if key != "update_id")
        if not self.allowed_updates:
            return kind not in DEFAULT_EXCLUDED_UPDATES
        return kind in self.allowed_updates

    def confirm_below(self, offset: int) -> None:
        """getUpdates(offset): every update with a lower id is confirmed and forgotten."""
        self.updates = [u for u in self.updates if u["update_id"] >= offset]

    def mark_delivered(self, update_ids: Iterable[int]) -> None:
        """Remember that these updates reached the bot (first time only)."""
        for update_id in update_ids:
            if update_id not in self._delivered:
                self._delivered.add(update_id)
                self.delivered_update_ids.append(update_id)

    def drop_disallowed(self) -> None:
        """Telegram never delivers updates of types the bot did not ask for."""
        self.updates = [u for u in self.updates if self.is_allowed(u)]

    # --- messages --------------------------------------------------------------------------

    def next_message_id(self, chat_id: int) -> int:
        """Message ids count per chat, shared by the bot's and the users' messages."""
        self._message_ids[chat_id] += 1
        return self._message_ids[chat_id]

    def record(self, message: SentMessage) -> SentMessage:
        """Store a message in its chat."""
        self.chats[message.chat_id].append(message)
        return message

    def find_message(self, chat_id: int, message_id: int) -> SentMessage | None:
        """A stored message that is not deleted."""
        for message in self.chats.get(chat_id, []):
            if message.message_id == message_id and not message.deleted:
                return message
        return None

    def messages(self, chat_id: int, *, include_user: bool = False) -> list[SentMessage]:
        """Messages the bot sent to a chat (and the users' ones too if `include_user`)."""
        return [m for m in self.chats.get(chat_id, []) if include_user or m.from_user is None]

    def answer_callback(self, query_id: str, params: dict[str, Any]) -> CallbackAnswer | None:
        """Record an answerCallbackQuery; None if the query is unknown or already answered."""
        pending = self.pending_callbacks.pop(query_id, None)
        if pending is None:
            return None
        answer = CallbackAnswer(
            query_id,
            params.get("text"),
            bool(params.get("show_alert", False)),
            params.get("url"),
            time.monotonic() - pending.pressed_at,
        )
        self.answered_callbacks[query_id] = answer
        return answer
