"""Human messages for plan validation problems, in Dutch (default) and English.

Every problem is a *code* plus a *context* dict. Pydantic's own error types are mapped onto the
same catalogue so that a coordinator never sees a mix of languages. The location of a problem
(``("weeks", 3, "questions", 1, "skill")``) becomes a prefix such as ``week 3, vraag 'gevoel'``
and a subject such as ``'skill'``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

Loc = tuple[str | int, ...]

Lang = str
"""``"nl"`` or ``"en"``; anything else falls back to Dutch."""

_CATALOGUE: dict[str, tuple[str, str]] = {
    # pydantic error kinds (normalised, see _PYDANTIC_CODES)
    "missing": ("veld '{name}' ontbreekt", "field '{name}' is missing"),
    "extra_forbidden": ("onbekend veld '{name}'{hint}", "unknown field '{name}'{hint}"),
    "string": ("{subject} moet tekst zijn{hint}", "{subject} must be text{hint}"),
    "int": ("{subject} moet een geheel getal zijn", "{subject} must be a whole number"),
    "bool": ("{subject} moet true of false zijn", "{subject} must be true or false"),
    "list": ("{subject} moet een lijst zijn", "{subject} must be a list"),
    "mapping": (
        "{subject} moet een mapping (sleutel: waarde) zijn",
        "{subject} must be a mapping (key: value)",
    ),
    "literal": ("{subject} moet {expected} zijn", "{subject} must be {expected}"),
    "empty": ("{subject} mag niet leeg zijn", "{subject} must not be empty"),
    "text_too_long": (
        "{subject} is te lang ({actual} tekens, maximaal {max_length})",
        "{subject} is too long ({actual} characters, at most {max_length})",
    ),
    "too_few": (
        "{subject} heeft te weinig items ({actual_length}, minimaal {min_length})",
        "{subject} has too few items ({actual_length}, at least {min_length})",
    ),
    "too_many": (
        "{subject} heeft te veel items ({actual_length}, maximaal {max_length})",
        "{subject} has too many items ({actual_length}, at most {max_length})",
    ),
    "slug": (
        "{subject} moet een sleutel van kleine letters, cijfers en '-' zijn, niet '{input}'",
        "{subject} must be a key of lower-case letters, digits and '-', not '{input}'",
    ),
    "ge": ("{subject} moet minstens {ge} zijn", "{subject} must be at least {ge}"),
    "le": ("{subject} mag hoogstens {le} zijn", "{subject} must be at most {le}"),
    "week_number": (
        "weeknummer '{input}' moet een geheel getal van 1 of hoger zijn",
        "week number '{input}' must be a whole number of 1 or more",
    ),
    "translations": (
        "{subject} moet tekst zijn, of een mapping met 'nl' (verplicht) en 'en'",
        "{subject} must be text, or a mapping with 'nl' (required) and 'en'",
    ),
    "other": ("{subject}: {msg}", "{subject}: {msg}"),
    # cross-reference checks (bot/plans/checks.py)
    "unknown_skill": ("onbekende vaardigheid '{skill}'{hint}", "unknown skill '{skill}'{hint}"),
    "duplicate_skill": ("dubbele vaardigheid '{key}'", "duplicate skill '{key}'"),
    "duplicate_focus": (
        "vaardigheid '{skill}' staat twee keer in 'focus_skills'",
        "skill '{skill}' is listed twice in 'focus_skills'",
    ),
    "duplicate_question": ("dubbele vraagsleutel '{key}'", "duplicate question key '{key}'"),
    "rating_key_clash": (
        "vraagsleutel '{key}' botst met de automatische beoordelingsvraag voor '{skill}'",
        "question key '{key}' clashes with the generated rating question for '{skill}'",
    ),
    "duplicate_rating": (
        "vaardigheid '{skill}' wordt deze week twee keer beoordeeld",
        "skill '{skill}' is rated twice this week",
    ),
    "rating_without_skill": (
        "beoordelingsvraag (kind: rating) zonder 'skill'",
        "rating question (kind: rating) without 'skill'",
    ),
    "choice_without_options": (
        "keuzevraag (kind: choice) zonder 'options' of 'options_from'",
        "choice question (kind: choice) without 'options' or 'options_from'",
    ),
    "options_and_from": (
        "gebruik 'options' of 'options_from', niet allebei",
        "use 'options' or 'options_from', not both",
    ),
    "options_not_choice": (
        "'{name}' hoort alleen bij een keuzevraag (kind: choice)",
        "'{name}' belongs to choice questions (kind: choice) only",
    ),
    "duplicate_option": (
        "optie '{option}' lijkt te veel op een andere optie (knopwaarde '{value}')",
        "option '{option}' is too close to another option (button value '{value}')",
    ),
    "help_needs_focus_choice": (
        "een hulpvraag (help: true) moet een keuzevraag met 'options_from: focus_skills' zijn",
        "a help question (help: true) must be a choice question with 'options_from: focus_skills'",
    ),
    "text_only": (
        "'{name}' hoort alleen bij een open vraag (kind: text)",
        "'{name}' belongs to text questions (kind: text) only",
    ),
    "no_questions": (
        "deze week heeft geen reflectievragen: voeg 'questions' toe of zet 'rate_focus_skills' aan",
        "this week has no reflection questions: add 'questions' or turn on 'rate_focus_skills'",
    ),
    "holiday_format": (
        "'{value}' is geen geldige vakantieweek: schrijf een ISO-week zoals '2026-W43' "
        "of een reeks zoals '2026-W52..2027-W01'",
        "'{value}' is not a valid holiday week: write an ISO week such as '2026-W43' "
        "or a range such as '2026-W52..2027-W01'",
    ),
    "holiday_no_such_week": (
        "week '{week}' bestaat niet: dat jaar heeft {weeks} ISO-weken",
        "week '{week}' does not exist: that year has {weeks} ISO weeks",
    ),
    "holiday_backwards": (
        "reeks '{value}' loopt achteruit: zet de vroegste week eerst",
        "range '{value}' runs backwards: put the earliest week first",
    ),
    "holiday_too_long": (
        "reeks '{value}' is langer dan {max} weken",
        "range '{value}' is longer than {max} weeks",
    ),
    # loader
    "yaml_syntax": ("ongeldige YAML: {problem}", "invalid YAML: {problem}"),
    "duplicate_yaml_key": (
        "sleutel '{key}' staat twee keer in dezelfde mapping",
        "key '{key}' appears twice in the same mapping",
    ),
    "empty_plan": ("het plan is leeg", "the plan is empty"),
    "unreadable": ("kan het bestand niet lezen: {error}", "cannot read the file: {error}"),
    "invalid_plan": ("ongeldig plan:\n{messages}", "invalid plan:\n{messages}"),
}

_PYDANTIC_CODES = {
    "string_type": "string",
    "int_type": "int",
    "int_parsing": "int",
    "int_from_float": "int",
    "bool_type": "bool",
    "bool_parsing": "bool",
    "list_type": "list",
    "dict_type": "mapping",
    "model_type": "mapping",
    "model_attributes_type": "mapping",
    "literal_error": "literal",
    "string_too_short": "empty",
    "string_too_long": "text_too_long",
    "translations": "translations",
    "too_short": "too_few",
    "too_long": "too_many",
    "string_pattern_mismatch": "slug",
    "greater_than_equal": "ge",
    "less_than_equal": "le",
}

_HINTS = {
    "suggest": (" (bedoel je '{0}'?)", " (did you mean '{0}'?)"),
    "quote": (" (zet de tekst tussen aanhalingstekens)", " (put the text in quotes)"),
}

_WORDS = {
    "skill": ("vaardigheid", "skill"),
    "default_week": ("standaardweek", "default week"),
    "week": ("week", "week"),
    "weeks": ("weken", "weeks"),
    "holidays": ("vakanties", "holidays"),
    "question": ("vraag", "question"),
    "plan": ("plan", "plan"),
    "item": ("nr.", "no."),
    "this": ("dit onderdeel", "this entry"),
    "or": ("of", "or"),
}


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[1] if lang == "en" else pair[0]


def word(key: str, lang: Lang) -> str:
    """A single translated word used in locations."""
    return _pick(_WORDS[key], lang)


def text(code: str, lang: Lang = "nl", **ctx: Any) -> str:
    """Format catalogue entry ``code`` with ``ctx``; unknown placeholders are left visible."""
    template = _pick(_CATALOGUE[code], lang)
    return template.format_map(_Default(ctx))


class _Default(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def suggestion(value: str, candidates: Iterable[str], lang: Lang) -> str:
    """`` (bedoel je 'x'?)`` for the closest candidate, or an empty string."""
    close = difflib.get_close_matches(value, list(candidates), n=1, cutoff=0.6)
    return _pick(_HINTS["suggest"], lang).format(close[0]) if close else ""


def _at(data: Any, *path: str | int) -> Any:
    """Walk raw plan data tolerantly; None when the path does not exist."""
    for step in path:
        if isinstance(data, Mapping):
            data = data.get(step)
        elif isinstance(data, Sequence) and isinstance(step, int) and 0 <= step < len(data):
            data = data[step]
        else:
            return None
    return data


def _named(data: Any, kind: str, index: int, lang: Lang) -> str:
    key = data.get("key") if isinstance(data, Mapping) else None
    return (
        f"{word(kind, lang)} '{key}'" if isinstance(key, str) else f"{word(kind, lang)} {index + 1}"
    )


def split_loc(loc: Loc, data: Any, lang: Lang = "nl") -> tuple[str, Loc]:
    """Split a location into a readable prefix (``week 3, vraag 'x'``) and the remaining path."""
    head, rest = loc[:1], loc[1:]
    if head == ("skills",) and rest and isinstance(rest[0], int):
        prefix, base, rest = _named(_at(data, *loc[:2]), "skill", rest[0], lang), loc[:2], rest[1:]
    elif head == ("default_week",):
        prefix, base = word("default_week", lang), loc[:1]
    elif head == ("weeks",) and rest and "[key]" not in loc:
        prefix, base, rest = f"{word('week', lang)} {rest[0]}", loc[:2], rest[1:]
    elif head == ("holidays",):
        return word("holidays", lang), loc
    elif head == ("weeks",):
        return word("weeks", lang), rest
    else:
        return word("plan", lang), loc
    if rest[:1] == ("questions",) and len(rest) >= 2 and isinstance(rest[1], int):
        question = _at(data, *base, "questions", rest[1])
        prefix += ", " + _named(question, "question", rest[1], lang)
        rest = rest[2:]
    return prefix, rest


def subject(rest: Loc, lang: Lang) -> str:
    """``'options' nr. 3`` for ``("options", 2)``; ``dit onderdeel`` for an empty path."""
    names = [str(p) for p in rest if isinstance(p, str)]
    if not names:
        return word("this", lang)
    label = f"'{names[-1]}'"
    if isinstance(rest[-1], int):
        label += f" {word('item', lang)} {rest[-1] + 1}"
    return label


def _needs_quotes(value: Any) -> bool:
    return isinstance(value, bool | int | float | date)


def pydantic_message(error: Mapping[str, Any], data: Any, fields: Iterable[str], lang: Lang) -> str:
    """Translate one pydantic error dict (from ``ValidationError.errors()``) into a message."""
    loc: Loc = tuple(error["loc"])
    kind, ctx, value = error["type"], dict(error.get("ctx") or {}), error.get("input")
    if "[key]" in loc:
        return f"{word('weeks', lang)}: " + text("week_number", lang, input=loc[-2])
    if kind in ("missing", "extra_forbidden"):
        prefix, _ = split_loc(loc[:-1], data, lang)
        hint = suggestion(str(loc[-1]), fields, lang) if kind == "extra_forbidden" else ""
        return f"{prefix}: " + text(kind, lang, name=loc[-1], hint=hint)
    prefix, rest = split_loc(loc, data, lang)
    code = _PYDANTIC_CODES.get(kind, "other")
    ctx.update(subject=subject(rest, lang), msg=error.get("msg", ""), input=value, hint="")
    if code == "string" and _needs_quotes(value):
        ctx["hint"] = _pick(_HINTS["quote"], lang)
    if code == "text_too_long" and isinstance(value, str):
        ctx["actual"] = len(value)
    if code == "literal":
        ctx["expected"] = str(ctx.get("expected", "")).replace(" or ", f" {word('or', lang)} ")
    if not loc:
        ctx["subject"] = "het plan" if lang != "en" else "the plan"
        return text(code, lang, **ctx)
    return f"{prefix}: " + text(code, lang, **ctx)


def issue_message(loc: Loc, code: str, ctx: Mapping[str, Any], data: Any, lang: Lang) -> str:
    """Message for a cross-reference issue found by :mod:`bot.plans.checks`."""
    prefix, _ = split_loc(loc, data, lang)
    extra = dict(ctx)
    if "suggest_from" in extra:
        extra["hint"] = suggestion(str(extra.get("skill", "")), extra.pop("suggest_from"), lang)
    return f"{prefix}: " + text(code, lang, **extra)
