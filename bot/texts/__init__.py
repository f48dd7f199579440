"""Every sentence a user sees, in Dutch (the default) and English, by key.

Texts live in YAML files beside this module, one file per feature, so that a feature's texts
stay together and translators have one place to look. `t(key, lang, **values)` renders one.
"""

from __future__ import annotations

import string
from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """All texts from every YAML file in this package, merged; a key may be defined once."""
    merged: dict[str, dict[str, str]] = {}
    for entry in sorted(resources.files(__package__).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
        for key, versions in data.items():
            if key in merged:
                raise ValueError(f"text {key!r} is defined twice ({entry.name})")
            merged[key] = {lang: str(text).rstrip("\n") for lang, text in versions.items()}
    return merged


def normalise_language(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, lang: str | None = None, /, **values: Any) -> str:
    """The text `key` in `lang` (Dutch when unknown), with `{placeholders}` filled in."""
    versions = catalogue()[key]
    template = versions.get(normalise_language(lang)) or versions[DEFAULT_LANGUAGE]
    return template.format(**values) if values else template


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
