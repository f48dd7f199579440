"""The vendored Telegram Bot API description (`bot-api.min.json`) as typed lookups.

The JSON is generated from the official documentation; this module turns it into small frozen
records so that the validator does not have to know the file layout.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("bot-api.min.json")

# Subtypes announce their discriminator in prose: 'Scope type, must be chat' or
# 'Type of the reaction, always "emoji"'. Anchored so that 'always a positive number' is no match.
_DISCRIMINATOR = re.compile(r'(?:must be ([a-z_]+)\s*$|always "([a-z_]+)")')
# String limits are also prose: '1-4096 characters after entities parsing', '1-64 bytes'.
_LENGTH = re.compile(r"\b(\d+)-(\d+) (characters|bytes)\b")


@dataclass(frozen=True)
class LengthLimit:
    """A documented length range of a String field."""

    low: int
    high: int
    unit: str  # "characters" (counted in UTF-16 code units) or "bytes" (UTF-8)


@dataclass(frozen=True)
class Field:
    """One parameter of a method or one field of a type."""

    name: str
    types: tuple[str, ...]  # alternatives, e.g. ("Integer", "String")
    required: bool
    description: str

    @functools.cached_property
    def length(self) -> LengthLimit | None:
        """The documented length range, if this is a String field that has one."""
        if self.types != ("String",):
            return None
        match = _LENGTH.search(self.description)
        if match is None:
            return None
        return LengthLimit(int(match[1]), int(match[2]), match[3])


@dataclass(frozen=True)
class TypeSpec:
    """An object type: either concrete (`fields`) or abstract (`subtypes`)."""

    name: str
    fields: dict[str, Field]
    subtypes: tuple[str, ...]

    @property
    def is_abstract(self) -> bool:
        """True for union types such as BotCommandScope."""
        return bool(self.subtypes)


@dataclass(frozen=True)
class MethodSpec:
    """One Bot API method."""

    name: str
    fields: dict[str, Field]
    returns: tuple[str, ...]


class ApiSpec:
    """Methods and types of the Bot API, loaded from the vendored JSON."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = data.get("version", "?")
        self.methods = {name: _method(raw) for name, raw in data["methods"].items()}
        self.types = {name: _type(raw) for name, raw in data["types"].items()}
        self._discriminators: dict[str, tuple[str, dict[str, str]] | None] = {}

    def discriminator(self, abstract: str) -> tuple[str, dict[str, str]] | None:
        """For an abstract type: the field that selects the subtype and its value → subtype.

        None when the subtypes carry no such field (then the validator tries each subtype).
        """
        if abstract not in self._discriminators:
            self._discriminators[abstract] = self._find_discriminator(abstract)
        return self._discriminators[abstract]

    def _find_discriminator(self, abstract: str) -> tuple[str, dict[str, str]] | None:
        mapping: dict[str, str] = {}
        key: str | None = None
        for sub in self.types[abstract].subtypes:
            sub_spec = self.types.get(sub)
            found = _discriminating_field(sub_spec) if sub_spec else None
            if found is None or (key is not None and found[0] != key):
                return None
            key = found[0]
            mapping[found[1]] = sub
        return (key, mapping) if key else None


def _fields(raw: dict[str, Any]) -> dict[str, Field]:
    return {
        f["name"]: Field(f["name"], tuple(f["types"]), bool(f["required"]), f["description"])
        for f in raw.get("fields", [])
    }


def _method(raw: dict[str, Any]) -> MethodSpec:
    return MethodSpec(raw["name"], _fields(raw), tuple(raw.get("returns", [])))


def _type(raw: dict[str, Any]) -> TypeSpec:
    return TypeSpec(raw["name"], _fields(raw), tuple(raw.get("subtypes", [])))


def _discriminating_field(sub: TypeSpec) -> tuple[str, str] | None:
    for field in sub.fields.values():
        match = _DISCRIMINATOR.search(field.description)
        if match and field.required and field.types == ("String",):
            return field.name, match[1] or match[2]
    return None


@functools.cache
def load_spec() -> ApiSpec:
    """The vendored spec, parsed once per process."""
    return ApiSpec(json.loads(SPEC_PATH.read_text(encoding="utf-8")))
