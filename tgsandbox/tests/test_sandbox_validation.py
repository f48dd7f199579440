"""Requests that Telegram would reject are answered 400 and recorded as violations."""

from __future__ import annotations

import json

import pytest
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from telegram.error import BadRequest, EndPointNotFound

from tgsandbox import SandboxServer, decode_params, validate_request
from tgsandbox.validator import UploadedFile

# do_api_request("sendMessage") is how these tests send what Bot.send_message would refuse.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning")


def _one_violation(api: SandboxServer, *fragments: str) -> None:
    """Exactly one violation containing every fragment; cleared so the fixture passes."""
    assert len(api.violations) == 1, api.violations
    for fragment in fragments:
        assert fragment in api.violations[0], api.violations[0]
    api.violations.clear()


async def test_unknown_method(api: SandboxServer, bot) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")
    _one_violation(api, "noSuchMethod", "unknown method")


async def test_missing_required_parameter(api: SandboxServer, bot) -> None:  # type: ignore[no-untyped-def]
    user = api.add_user("Anna")
    with pytest.raises(BadRequest, match="missing required parameter 'text'"):
        await bot.do_api_request("sendMessage", api_kwargs={"chat_id": user.id})
    _one_violation(api, "sendMessage", "'text'")
    assert api.messages(user) == []


async def test_unknown_parameter(api: SandboxServer, bot) -> None:  # type: ignore[no-untyped-def]
    user = api.add_user("Bram")
    with pytest.raises(BadRequest):
        await bot.send_message(user.id, "hoi", api_kwargs={"colour": "red"})
    _one_violation(api, "sendMessage", "unknown parameter 'colour'")


async def test_wrong_scalar_type(api: SandboxServer, bot) -> None:  # type: ignore[no-untyped-def]
    user = api.add_user("Cas")
    kwargs = {"chat_id": user.id, "text": "x", "disable_notification": "yes"}
    with pytest.raises(BadRequest):
        await bot.do_api_request("sendMessage", api_kwargs=kwargs)
    _one_violation(api, "disable_notification", "expected Boolean")


async def test_text_of_4097_characters_is_rejected_4096_is_fine(api: SandboxServer, bot) -> None:  # type: ignore[no-untyped-def]
    user = api.add_user("Dewi")
    await bot.send_message(user.id, "x" * 4096)
    with pytest.raises(BadRequest):
        await bot.send_message(user.id, "x" * 4097)
    _one_violation(api, "sendMessage: text", "4097")
    assert len(api.messages(user)) == 1


async def test_length_is_counted_after_html_parsing(api: SandboxServer, bot) -> None:  # type: ignore[no-untyped-def]
    user = api.add_user("Eline")
    await bot.send_message(user.id, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    assert api.violations == []


async def test_emoji_count_as_two_characters(api: SandboxServer, bot) -> None:  # type: ignore[no-untyped-def]
    user = api.add_user("Fenna")
    with pytest.raises(BadRequest):
        await bot.send_message(user.id, "😀" * 2049)  # 4098 UTF-16 code units
    _one_violation(api, "4098 characters")


async def test_caption_over_1024(api: SandboxServer, bot) -> None:  # type: ignore[no-untyped-def]
    user = api.add_user("Gijs")
    with pytest.raises(BadRequest):
        await bot.send_document(user.id, b"data", filename="a.txt", caption="c" * 1025)
    _one_violation(api, "sendDocument: caption", "1025")


async def test_callback_data_of_65_bytes(api: SandboxServer, bot) -> None:  # type: ignore[no-untyped-def]
    user = api.add_user("Hanna")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Te lang", callback_data="é" * 32 + "x")]])
    with pytest.raises(BadRequest):
        await bot.send_message(user.id, "kies", reply_markup=markup)
    _one_violation(api, "inline_keyboard[0][0].callback_data", "65 bytes")


async def test_broken_html_is_rejected(api: SandboxServer, bot) -> None:  # type: ignore[no-untyped-def]
    user = api.add_user("Ilse")
    with pytest.raises(BadRequest, match="can't parse entities"):
        await bot.send_message(user.id, "Score <5 voor Ilse", parse_mode="HTML")
    _one_violation(api, "can't parse entities")


async def test_nested_scope_and_commands_are_validated(api: SandboxServer, bot) -> None:  # type: ignore[no-untyped-def]
    user = api.add_user("Jens")
    ok = [BotCommand("start", "Begin"), BotCommand("help", "Hulp")]
    await bot.set_my_commands(ok, scope=BotCommandScopeChat(user.id), language_code="nl")
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("Start", "Begin")])
    _one_violation(api, "commands[0].command", "lowercase")


def test_validator_checks_nested_objects_without_a_server() -> None:
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "x", "colour": "red"}]]}
    form = {"chat_id": "5", "text": "hoi", "reply_markup": json.dumps(markup)}
    params = decode_params("sendMessage", form)
    assert params["chat_id"] == 5 and params["reply_markup"] == markup
    assert validate_request("sendMessage", params) == [
        "sendMessage: reply_markup.inline_keyboard[0][0]: unknown field 'colour'"
    ]


def test_validator_picks_the_scope_subtype_by_type() -> None:
    bad = {"commands": [{"command": "a", "description": "b"}], "scope": {"type": "chat"}}
    assert validate_request("setMyCommands", bad) == [
        "setMyCommands: scope: missing required field 'chat_id'"
    ]
    wrong = {"commands": [], "scope": {"type": "everyone"}}
    (violation,) = validate_request("setMyCommands", wrong)
    assert "BotCommandScope.type must be one of" in violation


def test_validator_keeps_strings_where_strings_are_allowed() -> None:
    params = decode_params("sendDocument", {"chat_id": "@klas", "document": "12345"})
    assert params == {"chat_id": "@klas", "document": "12345"}
    assert validate_request("sendDocument", params) == []


def test_validator_wants_exactly_one_button_action() -> None:
    markup = {"inline_keyboard": [[{"text": "niets"}]]}
    (violation,) = validate_request(
        "sendMessage", {"chat_id": 1, "text": "x", "reply_markup": markup}
    )
    assert "exactly one action field" in violation


def test_validator_resolves_attach_references() -> None:
    media = [{"type": "photo", "media": "attach://pic"}, {"type": "photo", "media": "attach://x"}]
    files = {"pic": UploadedFile("pic", "a.png", "image/png", b"png")}
    (violation,) = validate_request("sendMediaGroup", {"chat_id": 1, "media": media}, files)
    assert violation == "sendMediaGroup: media[1].media: attach://x names no uploaded file part"


def test_whitespace_only_text_is_empty() -> None:
    (violation,) = validate_request("sendMessage", {"chat_id": 1, "text": "  \n"})
    assert violation == "sendMessage: text: must not be empty (Telegram trims whitespace)"
    (html_violation,) = validate_request(
        "sendMessage", {"chat_id": 1, "text": "<b> </b>", "parse_mode": "HTML"}
    )
    assert "must not be empty" in html_violation


def test_markdown_v2_reserved_characters() -> None:
    params = {"chat_id": 1, "text": "Score: 7.5!", "parse_mode": "MarkdownV2"}
    (violation,) = validate_request("sendMessage", params)
    assert "Character '.' is reserved" in violation
    params["text"] = "Score: *7\\.5\\!*"
    assert validate_request("sendMessage", params) == []
