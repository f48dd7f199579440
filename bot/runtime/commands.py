"""Telegram's command menu: each user sees the commands of their role, in their language."""

from __future__ import annotations

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from bot.texts import LANGUAGES, t

ROLE_COMMANDS: dict[str, tuple[str, ...]] = {
    "stranger": ("start", "help", "taal"),
    "student": (
        "verder",
        "status",
        "vraag",
        "werkbegeleider",
        "mijngegevens",
        "taal",
        "help",
        "stop",
    ),
    "werkbegeleider": ("verder", "signaal", "mijngegevens", "taal", "help", "stop"),
    "mentor": (
        "overzicht",
        "gaten",
        "student",
        "grafiek",
        "export",
        "nu",
        "verwachting",
        "antwoord",
        "signaal",
        "afspraak",
        "agenda",
        "compliment",
        "taal",
        "help",
    ),
    "observer": ("trends", "taal", "help"),
}


def commands_for(role: str, lang: str) -> list[BotCommand]:
    return [BotCommand(name, t(f"cmd.{name}", lang)) for name in ROLE_COMMANDS[role]]


async def publish_default_commands(bot: Bot) -> None:
    """The menu of users the bot does not know yet: Dutch, and English for English clients."""
    scope = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands(commands_for("stranger", "nl"), scope=scope)
    await bot.set_my_commands(commands_for("stranger", "en"), scope=scope, language_code="en")


async def publish_role_commands(bot: Bot, chat_id: int, role: str, lang: str) -> None:
    """The menu of one private chat, for the user's role and chosen language."""
    lang = lang if lang in LANGUAGES else "nl"
    await bot.set_my_commands(commands_for(role, lang), scope=BotCommandScopeChat(chat_id))
