"""Handlers of the message methods: send, edit, delete, callback answers, files, chat actions."""

from __future__ import annotations

from typing import Any

from tgsandbox.calls import ApiError, Call, handles, render_message
from tgsandbox.formatting import FormattingError, ParsedText, parse
from tgsandbox.spec import load_spec
from tgsandbox.world import SentMessage, now

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


def _parsed(call: Call, key: str) -> ParsedText | None:
    """Text parameter `key` after parse_mode, or None if absent."""
    text = call.params.get(key)
    if text is None:
        return None
    try:
        parsed = parse(text, call.params.get("parse_mode"))
    except FormattingError as exc:  # the validator reports it first; kept for direct calls
        raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
    entities = call.params.get("entities") or call.params.get("caption_entities")
    if entities and not parsed.entities:
        parsed.entities = list(entities)
    return parsed


def _reply_to(call: Call) -> int | None:
    reply = call.params.get("reply_parameters")
    if not isinstance(reply, dict):
        return None
    message_id = reply.get("message_id")
    chat_id = call.params["chat_id"] if reply.get("chat_id") is None else reply["chat_id"]
    chat = call.world.chat(chat_id)
    found = chat and isinstance(message_id, int) and call.bot.find_message(chat.id, message_id)
    if not found and not reply.get("allow_sending_without_reply"):
        raise ApiError(400, "Bad Request: message to be replied not found")
    return message_id if found else None


def _new_message(call: Call, kind: str) -> SentMessage:
    """Record a message the bot sends to the `chat_id` of this call."""
    chat = call.chat()
    message = SentMessage(
        message_id=call.bot.next_message_id(chat.id),
        chat_id=chat.id,
        date=now(),
        kind=kind,
        reply_markup=call.params.get("reply_markup"),
        reply_to_message_id=_reply_to(call),
        params=dict(call.params),
    )
    return message


def _finish(call: Call, message: SentMessage) -> dict[str, Any]:
    call.bot.record(message)
    call.server.changed.notify()
    return render_message(call.bot, call.world, message)


@handles("sendMessage")
async def send_message(call: Call) -> dict[str, Any]:
    """Store the text (markup parsed) and answer the Message."""
    message = _new_message(call, "text")
    parsed = _parsed(call, "text")
    assert parsed is not None  # required parameter, checked by the validator
    message.text, message.entities = parsed.text, parsed.entities
    message.raw_text, message.parse_mode = call.params["text"], call.params.get("parse_mode")
    return _finish(call, message)


def _with_caption(call: Call, message: SentMessage) -> SentMessage:
    parsed = _parsed(call, "caption")
    if parsed is not None:
        message.caption, message.entities = parsed.text, parsed.entities
        message.raw_text, message.parse_mode = call.params["caption"], call.params.get("parse_mode")
    return message


@handles("sendDocument")
async def send_document(call: Call) -> dict[str, Any]:
    """Store the uploaded bytes and filename."""
    message = _with_caption(call, _new_message(call, "document"))
    message.document = call.stored_file("document")
    return _finish(call, message)


@handles("sendPhoto")
async def send_photo(call: Call) -> dict[str, Any]:
    """Store the uploaded image."""
    message = _with_caption(call, _new_message(call, "photo"))
    message.photo = call.stored_file("photo")
    return _finish(call, message)


async def send_other(call: Call) -> Any:
    """Any other method that returns a Message (sendSticker, copyMessage, ...): record it."""
    message = _with_caption(call, _new_message(call, call.method))
    text = _parsed(call, "text")
    if text is not None:
        message.text, message.entities = text.text, text.entities
    return _finish(call, message)


def _editable(call: Call) -> SentMessage:
    if "inline_message_id" in call.params:
        raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")  # no inline mode in the sandbox
    if "chat_id" not in call.params or "message_id" not in call.params:
        raise ApiError(400, "Bad Request: message identifier is not specified")
    chat = call.chat()
    message = call.bot.find_message(chat.id, call.params["message_id"])
    if message is None:
        raise ApiError(400, "Bad Request: message to edit not found")
    if message.from_user is not None:
        raise ApiError(400, "Bad Request: message can't be edited")
    return message


def _apply_edit(call: Call, message: SentMessage, changes: dict[str, Any]) -> dict[str, Any]:
    current = {key: getattr(message, key) for key in changes}
    if current == changes:
        raise ApiError(400, _NOT_MODIFIED)
    message.history.append(message.snapshot())
    for key, value in changes.items():
        setattr(message, key, value)
    message.edited, message.edit_date = True, now()
    call.server.changed.notify()
    return render_message(call.bot, call.world, message)


@handles("editMessageText")
async def edit_message_text(call: Call) -> dict[str, Any]:
    """Edit a text; like Telegram, an edit without reply_markup removes the inline keyboard."""
    message = _editable(call)
    if message.text is None:
        raise ApiError(400, "Bad Request: there is no text in the message to edit")
    parsed = _parsed(call, "text")
    assert parsed is not None
    changes = {
        "text": parsed.text,
        "entities": parsed.entities,
        "reply_markup": call.params.get("reply_markup"),
    }
    result = _apply_edit(call, message, changes)
    message.raw_text, message.parse_mode = call.params["text"], call.params.get("parse_mode")
    return result


@handles("editMessageCaption")
async def edit_message_caption(call: Call) -> dict[str, Any]:
    """Edit a caption (same keyboard rule as editMessageText)."""
    message = _editable(call)
    parsed = _parsed(call, "caption") or ParsedText("")
    changes = {
        "caption": parsed.text or None,
        "entities": parsed.entities,
        "reply_markup": call.params.get("reply_markup"),
    }
    return _apply_edit(call, message, changes)


@handles("editMessageReplyMarkup")
async def edit_message_reply_markup(call: Call) -> dict[str, Any]:
    """Replace (or, without reply_markup, remove) the inline keyboard."""
    message = _editable(call)
    return _apply_edit(call, message, {"reply_markup": call.params.get("reply_markup")})


@handles("deleteMessage")
async def delete_message(call: Call) -> bool:
    """Mark a message deleted (it stays in the record with `deleted=True`)."""
    chat = call.chat()
    message = call.bot.find_message(chat.id, call.params["message_id"])
    if message is None:
        raise ApiError(400, "Bad Request: message to delete not found")
    message.deleted = True
    call.server.changed.notify()
    return True


@handles("answerCallbackQuery")
async def answer_callback_query(call: Call) -> bool:
    """Record the answer; unknown or already answered queries fail like on Telegram."""
    answer = call.bot.answer_callback(call.params["callback_query_id"], call.params)
    if answer is None:
        raise ApiError(
            400,
            "Bad Request: query is too old and response timeout expired or query ID is invalid",
        )
    call.server.changed.notify()
    return True


@handles("sendChatAction")
async def send_chat_action(call: Call) -> bool:
    """Record (chat_id, action)."""
    chat = call.chat()
    call.bot.chat_actions.append((chat.id, call.params["action"]))
    call.server.changed.notify()
    return True


@handles("getFile")
async def get_file(call: Call) -> dict[str, Any]:
    """A stored file's File object (download it from /file/bot<token>/<file_path>)."""
    stored = call.bot.files.get(call.params["file_id"])
    if stored is None:
        raise ApiError(400, "Bad Request: invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


def returns_message(method: str) -> bool:
    """Whether the spec says `method` returns a Message."""
    spec = load_spec().methods.get(method)
    return spec is not None and spec.returns == ("Message",) and "chat_id" in spec.fields
