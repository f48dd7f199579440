"""A plan text in Dutch, with its English version beside it.

A plan writes every student-facing text either as plain Dutch (``title: Samenwerken``) or as a
mapping ``{nl: Samenwerken, en: Working together}``. Both load into :class:`LocalText`: a ``str``
whose value is the Dutch text (so staff views, checks and older code read it unchanged) and which
carries the English text for :meth:`LocalText.pick`. A plan dumps back in the form it was written.
"""

from __future__ import annotations

from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

LANGUAGE_KEYS = ("nl", "en")


class LocalText(str):
    """Dutch text (the string's value) with an optional English translation."""

    en: str | None

    def __new__(cls, nl: str, en: str | None = None) -> LocalText:
        value = super().__new__(cls, nl)
        value.en = en
        return value

    @staticmethod
    def pick(value: str, lang: str) -> str:
        """``value`` in ``lang``: the English text when asked for and present, else Dutch."""
        english = getattr(value, "en", None)
        return str(english) if lang == "en" and english else str(value)

    @staticmethod
    def has_english(value: str) -> bool:
        return bool(getattr(value, "en", None))

    def __reduce__(self) -> tuple[Any, ...]:
        return (LocalText, (str(self), self.en))

    def __repr__(self) -> str:
        return f"LocalText({str(self)!r}, en={self.en!r})"


class TextLimits:
    """Pydantic schema of a :class:`LocalText` field: ``Annotated[LocalText, TextLimits(40)]``."""

    def __init__(self, max_length: int, min_length: int = 1) -> None:
        self.min_length, self.max_length = min_length, max_length

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            self._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(_serialise),
        )

    def _validate(self, value: Any) -> LocalText:
        if isinstance(value, LocalText):
            return value
        if isinstance(value, str):
            return LocalText(self._checked(value))
        if isinstance(value, dict):
            unknown = sorted(str(k) for k in value if k not in LANGUAGE_KEYS)
            if unknown or not isinstance(value.get("nl"), str):
                raise PydanticCustomError(
                    "translations", "text or a mapping with 'nl' and 'en'", {"found": unknown}
                )
            english = value.get("en")
            if english is not None and not isinstance(english, str):
                raise PydanticCustomError("string_type", "Input should be a valid string")
            return LocalText(
                self._checked(value["nl"]), self._checked(english) if english else None
            )
        raise PydanticCustomError("string_type", "Input should be a valid string")

    def _checked(self, value: str) -> str:
        if len(value) < self.min_length:
            raise PydanticCustomError(
                "string_too_short", "too short", {"min_length": self.min_length}
            )
        if len(value) > self.max_length:
            raise PydanticCustomError(
                "string_too_long", "too long", {"max_length": self.max_length}
            )
        return value


def _serialise(value: str) -> str | dict[str, str]:
    english = getattr(value, "en", None)
    return {"nl": str(value), "en": english} if english else str(value)
