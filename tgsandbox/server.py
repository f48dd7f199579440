"""`SandboxServer`: a local Telegram Bot API server for end-to-end tests and demos.

    async with SandboxServer() as api:
        bot = Bot(api.token, base_url=f"{api.base_url}/bot",
                  base_file_url=f"{api.base_url}/file/bot")
        user = api.add_user("Sanne")
        await api.send_text(user, "/start")
        reply = await api.wait_for_message(user)
    assert api.violations == []

See README.md in this folder for the whole API.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from tgsandbox import methods, methods_bot  # noqa: F401  (registers the method handlers)
from tgsandbox.botstate import BotState, CallbackAnswer
from tgsandbox.faults import Faults, RateLimiter, Stats
from tgsandbox.routes import RecordedRequest, build_app
from tgsandbox.updates import TINY_PNG, Injector
from tgsandbox.webhook import Webhooks
from tgsandbox.world import Notifier, SandboxChat, SandboxUser, SentMessage, World

# How long the wait_* helpers wait by default. Generous: on a loaded 2-core machine a class of
# 25 answering at once queues behind one bot; a test that expects silence passes its own timeout.
WAIT_SECONDS = 20.0
DEFAULT_TOKEN = "7000000001:SANDBOX-mentorbot-test-token"
DEFAULT_USERNAME = "mentorbot_test_bot"

ChatRef = int | SandboxUser | SandboxChat


def chat_id_of(chat: ChatRef) -> int:
    """A chat id from an id, a user (their private chat) or a chat."""
    return chat if isinstance(chat, int) else chat.id


class SandboxServer:
    """The fake api.telegram.org. Start it with `async with` (or `start()` / `stop()`)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = DEFAULT_TOKEN,
        username: str = DEFAULT_USERNAME,
    ) -> None:
        self.host, self.port = host, port
        self.token = token  # the default bot; helpers act on it unless given `token=`
        self.world = World()
        self.faults = Faults()
        self.rate_limiter = RateLimiter()
        self.stats = Stats()
        self.violations: list[str] = []
        self.requests: list[RecordedRequest] = []
        self.changed = Notifier()  # anything recorded: messages, answers, requests
        self.closing = False
        self.webhooks = Webhooks(self)
        self._bots: dict[str, BotState] = {}
        self._inject = Injector(self)
        self._cursors: dict[tuple[str, int], int] = {}
        self._runner: web.AppRunner | None = None
        self.add_bot(token, username)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> SandboxServer:
        """Listen on host:port (port 0 picks a free port; see `base_url`)."""
        self._runner = web.AppRunner(build_app(self), shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]  # the real port when 0 was asked for
        return self

    async def stop(self) -> None:
        """Release waiting long polls, stop webhook delivery and the HTTP server."""
        self.closing = True
        for bot in self._bots.values():
            bot.updates_changed.notify()
        self.changed.notify()
        await self.webhooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SandboxServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """E.g. http://127.0.0.1:40123; bots use f"{base_url}/bot" and f"{base_url}/file/bot"."""
        return f"http://{self.host}:{self.port}"

    # --- bots ------------------------------------------------------------------------------

    def add_bot(
        self, token: str, username: str | None = None, first_name: str = "Mentorbot"
    ) -> BotState:
        """Register a bot token (its id is the number before the colon)."""
        bot_id = int(token.split(":", 1)[0])
        user = SandboxUser(bot_id, first_name, None, username or f"test{bot_id}_bot", None, True)
        self._bots[token] = BotState(token, user)
        return self._bots[token]

    def bot(self, token: str | None = None) -> BotState:
        """Per-bot state (updates, messages, webhook, commands); unknown tokens are registered."""
        token = token or self.token
        return self._bots.get(token) or self.add_bot(token)

    def add_violation(self, violation: str) -> None:
        """Record a request that Telegram would reject (tests assert none at teardown)."""
        self.violations.append(violation)
        self.changed.notify()

    # --- world -----------------------------------------------------------------------------

    def add_user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "nl",
    ) -> SandboxUser:
        """A new user; their private chat with any bot has the user's id."""
        return self.world.add_user(first_name, last_name, username, language_code)

    def add_group(self, title: str, kind: str = "supergroup") -> SandboxChat:
        """A new group or supergroup (negative id)."""
        return self.world.add_group(title, kind)

    async def add_member_to_group(
        self, user: SandboxUser, group: SandboxChat, token: str | None = None
    ) -> int:
        """`user` joins: a message with new_chat_members (+ a chat_member update, which only
        arrives if the bot asked for chat_member in allowed_updates)."""
        bot = self.bot(token)
        group.members.add(user.id)
        message = self._inject.user_message(
            bot, user, group, extra={"new_chat_members": [user.to_dict()]}
        )
        update_id = await self._inject.message(bot, message)
        await self._inject.member_change(bot, group, user, user, ("left", "member"))
        return update_id

    async def add_bot_to_group(
        self, group: SandboxChat, by: SandboxUser, token: str | None = None
    ) -> int:
        """`by` adds the bot to `group`: my_chat_member + a new_chat_members message."""
        bot = self.bot(token)
        group.members.add(by.id)
        await self._inject.member_change(
            bot, group, by, bot.user, ("left", "member"), "my_chat_member"
        )
        message = self._inject.user_message(
            bot, by, group, extra={"new_chat_members": [bot.user.to_dict()]}
        )
        return await self._inject.message(bot, message)

    async def block(self, user: SandboxUser, token: str | None = None) -> None:
        """The user blocks the bot: sends to them answer 403; the bot gets my_chat_member."""
        bot = self.bot(token)
        bot.blocked.add(user.id)
        chat = SandboxChat.private(user)
        await self._inject.member_change(
            bot, chat, user, bot.user, ("member", "kicked"), "my_chat_member"
        )

    async def unblock(self, user: SandboxUser, token: str | None = None) -> None:
        """The user restarts the bot."""
        bot = self.bot(token)
        bot.blocked.discard(user.id)
        chat = SandboxChat.private(user)
        await self._inject.member_change(
            bot, chat, user, bot.user, ("kicked", "member"), "my_chat_member"
        )

    def set_rate_limits(
        self,
        global_per_second: float | None = 30,
        per_chat_per_second: float | None = 1,
        per_group_per_minute: float | None = 20,
        paid_per_second: float | None = 1000,
    ) -> None:
        """Turn on Telegram's flood limits (sliding windows; None = that limit off). Sends
        with `allow_paid_broadcast` count against `paid_per_second` instead of the global one."""
        self.rate_limiter.configure(
            global_per_second, per_chat_per_second, per_group_per_minute, paid_per_second
        )

    # --- what the users do -----------------------------------------------------------------

    async def send_text(
        self,
        user: SandboxUser,
        text: str,
        chat: SandboxChat | None = None,
        reply_to: SentMessage | int | None = None,
        token: str | None = None,
    ) -> int:
        """The user sends `text` (default: in their private chat); returns the update_id."""
        return await self._inject.send_text(self.bot(token), user, text, chat, reply_to)

    async def send_sticker(
        self, user: SandboxUser, chat: SandboxChat | None = None, token: str | None = None
    ) -> int:
        """The user sends a sticker."""
        return await self._inject.send_sticker(self.bot(token), user, chat)

    async def send_photo(
        self,
        user: SandboxUser,
        chat: SandboxChat | None = None,
        caption: str | None = None,
        data: bytes = TINY_PNG,
        token: str | None = None,
    ) -> int:
        """The user sends a photo."""
        return await self._inject.send_photo(self.bot(token), user, chat, caption, data)

    async def send_document(
        self,
        user: SandboxUser,
        filename: str = "file.txt",
        data: bytes = b"hello",
        chat: SandboxChat | None = None,
        caption: str | None = None,
        token: str | None = None,
    ) -> int:
        """The user sends a file."""
        bot = self.bot(token)
        return await self._inject.send_document(bot, user, filename, data, chat, caption)

    async def send_voice(
        self,
        user: SandboxUser,
        chat: SandboxChat | None = None,
        duration: int = 3,
        token: str | None = None,
    ) -> int:
        """The user sends a voice note."""
        return await self._inject.send_voice(self.bot(token), user, chat, duration)

    async def send_location(
        self,
        user: SandboxUser,
        latitude: float = 52.3676,
        longitude: float = 4.9041,
        chat: SandboxChat | None = None,
        token: str | None = None,
    ) -> int:
        """The user shares a location."""
        location = {"latitude": latitude, "longitude": longitude}
        return await self._inject.send_media(self.bot(token), user, "location", location, chat)

    async def edit_text(
        self,
        user: SandboxUser,
        message_id: int,
        new_text: str,
        chat: SandboxChat | None = None,
        token: str | None = None,
    ) -> int:
        """The user edits their own earlier message: an edited_message update."""
        bot = self.bot(token)
        chat_id = chat.id if chat else user.id
        message = bot.find_message(chat_id, message_id)
        if message is None or message.from_user is None or message.from_user.id != user.id:
            raise ValueError(f"{user.first_name} has no message {message_id} in chat {chat_id}")
        return await self._inject.edit_text(bot, message, new_text)

    async def press_button(
        self,
        user: SandboxUser,
        message: SentMessage,
        callback_data: str,
        *,
        check: bool = True,
        token: str | None = None,
    ) -> str:
        """The user taps the button with this callback_data; returns the callback query id.

        With `check=False` the data need not be on the message (a forged or stale button).
        """
        current = self.bot(token).find_message(message.chat_id, message.message_id) or message
        if check and callback_data not in current.callback_data:
            raise ValueError(
                f"message {message.message_id} has no button with callback_data "
                f"{callback_data!r}; it has {current.callback_data}"
            )
        return await self._inject.press_button(self.bot(token), user, current, callback_data)

    async def press(
        self, user: SandboxUser, message: SentMessage, button_text: str, token: str | None = None
    ) -> str:
        """The user taps the inline button labelled `button_text`."""
        current = self.bot(token).find_message(message.chat_id, message.message_id) or message
        button = current.button(button_text)
        if "callback_data" not in button:
            raise ValueError(f"button {button_text!r} is not a callback button: {button}")
        return await self._inject.press_button(
            self.bot(token), user, current, button["callback_data"]
        )

    # --- what the bot did ------------------------------------------------------------------

    def messages(self, chat: ChatRef, token: str | None = None) -> list[SentMessage]:
        """Messages the bot sent to a chat, oldest first (deleted ones have `deleted=True`)."""
        return self.bot(token).messages(chat_id_of(chat))

    def mark(self, chat: ChatRef, token: str | None = None) -> int:
        """A `since=` marker: wait_for_message(since=mark) only sees later messages."""
        return len(self.messages(chat, token))

    @property
    def answered_callbacks(self) -> dict[str, CallbackAnswer]:
        """callback_query_id → how the default bot answered it."""
        return self.bot().answered_callbacks

    async def wait_until(self, check: Callable[[], Any], timeout: float = WAIT_SECONDS) -> Any:  # noqa: ASYNC109
        """Wait until `check()` is truthy (re-checked whenever the sandbox records something)."""
        return await self.changed.wait_until(check, timeout)

    async def wait_for_message(
        self,
        chat: ChatRef,
        predicate: Callable[[SentMessage], bool] | None = None,
        timeout: float = WAIT_SECONDS,  # noqa: ASYNC109
        since: int | None = None,
        token: str | None = None,
    ) -> SentMessage:
        """The next message the bot sends to `chat` that matches `predicate`.

        "Next" counts from a per-chat cursor that each call moves past the message it returns
        (so consecutive calls see consecutive messages, even those sent before the call), or
        from `since` (a `mark()` or an index into `messages(chat)`).
        """
        bot, chat_id = self.bot(token), chat_id_of(chat)
        start = self._cursors.get((bot.token, chat_id), 0) if since is None else since

        def find() -> tuple[int, SentMessage] | None:
            sent = bot.messages(chat_id)
            for index in range(start, len(sent)):
                if predicate is None or predicate(sent[index]):
                    return index, sent[index]
            return None

        try:
            index, message = await self.changed.wait_until(find, timeout)
        except TimeoutError:
            seen = [m.text or m.caption or m.kind for m in bot.messages(chat_id)[start:]]
            raise TimeoutError(
                f"no matching message to chat {chat_id} within {timeout}s; since #{start}: {seen}; "
                f"violations: {self.violations}"
            ) from None
        self._cursors[(bot.token, chat_id)] = index + 1
        return message

    async def wait_for_callback_answer(
        self,
        callback_query_id: str,
        timeout: float = WAIT_SECONDS,  # noqa: ASYNC109
        token: str | None = None,
    ) -> CallbackAnswer:
        """Wait until the bot answered this callback query."""
        answers = self.bot(token).answered_callbacks
        return await self.changed.wait_until(lambda: answers.get(callback_query_id), timeout)
