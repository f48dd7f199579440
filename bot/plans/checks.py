"""Cross-reference checks on a plan that pydantic field types cannot express.

The checks work on *raw* plan data (nested dicts and lists, as read from YAML) and skip anything
that is not well-typed: pydantic reports type errors, these checks report the rest, and the
loader shows both together so that a mentor team sees every problem in one go.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from bot.plans.calendar import HolidayFormatError, parse_holiday
from bot.plans.messages import Loc

QUESTION_KINDS = ("rating", "text", "choice")
RATING_KEY_PREFIX = "rating-"


class Issue(NamedTuple):
    """One problem: where it is (a pydantic-style location), a catalogue code and its context."""

    loc: Loc
    code: str
    ctx: dict[str, Any]


def option_value(label: str, index: int) -> str:
    """Stable button value of a literal choice option: an ASCII slug of its label."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40].strip("-")
    return slug or f"optie-{index + 1}"


def rating_key(skill: str) -> str:
    """Key of the rating question generated for a focus skill."""
    return RATING_KEY_PREFIX + skill


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else []


def _strings(value: Any) -> list[str]:
    return [item for item in _list(value) if isinstance(item, str)]


def check_plan(data: Any) -> list[Issue]:
    """All cross-reference issues of raw plan data, in document order."""
    if not isinstance(data, Mapping):
        return []
    issues, known = _skill_issues(data.get("skills"))
    issues += _holiday_issues(data.get("holidays"))
    default = data.get("default_week")
    default = default if isinstance(default, Mapping) else {}
    if "default_week" in data:
        issues += _default_week_issues(default)
        issues += _week_issues(("default_week",), default, {}, known)
    weeks = data.get("weeks")
    if isinstance(weeks, Mapping):
        for number, week in weeks.items():
            if isinstance(week, Mapping):
                issues += _week_issues(("weeks", number), week, default, known)
    return issues


def _skill_issues(skills: Any) -> tuple[list[Issue], set[str]]:
    """Duplicate skill keys, and the set of all skill keys."""
    issues: list[Issue] = []
    known: set[str] = set()
    for index, skill in enumerate(_list(skills)):
        key = skill.get("key") if isinstance(skill, Mapping) else None
        if not isinstance(key, str):
            continue
        if key in known:
            issues.append(Issue(("skills", index, "key"), "duplicate_skill", {"key": key}))
        known.add(key)
    return issues, known


def _holiday_issues(holidays: Any) -> list[Issue]:
    issues = []
    for index, spec in enumerate(_list(holidays)):
        if isinstance(spec, str):
            try:
                parse_holiday(spec)
            except HolidayFormatError as exc:
                issues.append(Issue(("holidays", index), exc.code, dict(exc.ctx)))
    return issues


def _default_week_issues(default: Mapping[str, Any]) -> list[Issue]:
    """The default week must be complete: listed weeks inherit what they leave out."""
    return [
        Issue(("default_week", field), "missing", {"name": field})
        for field in ("expectations", "focus_skills")
        if default.get(field) is None
    ]


def _week_issues(
    loc: Loc, week: Mapping[str, Any], default: Mapping[str, Any], known: set[str]
) -> list[Issue]:
    issues = _focus_issues(loc, week.get("focus_skills"), known)
    own_questions = week.get("questions") is not None
    questions = _list(week.get("questions") if own_questions else default.get("questions"))
    if own_questions:
        for index, question in enumerate(questions):
            if isinstance(question, Mapping):
                issues += _question_issues((*loc, "questions", index), question, known)
    issues += _key_issues(loc, week, default, questions, known)
    return issues


def _focus_issues(loc: Loc, focus: Any, known: set[str]) -> list[Issue]:
    issues, seen = [], set()
    for index, skill in enumerate(_list(focus)):
        if not isinstance(skill, str):
            continue
        where = (*loc, "focus_skills", index)
        if skill not in known:
            ctx = {"skill": skill, "suggest_from": sorted(known)}
            issues.append(Issue(where, "unknown_skill", ctx))
        elif skill in seen:
            issues.append(Issue(where, "duplicate_focus", {"skill": skill}))
        seen.add(skill)
    return issues


def _effective(week: Mapping[str, Any], default: Mapping[str, Any], field: str) -> Any:
    return week[field] if week.get(field) is not None else default.get(field)


def _key_issues(
    loc: Loc,
    week: Mapping[str, Any],
    default: Mapping[str, Any],
    questions: list[Any],
    known: set[str],
) -> list[Issue]:
    """Duplicate question keys, clashes with generated ratings, double ratings, empty weeks.

    Problems that come entirely from inherited settings are reported once, at the default week.
    """
    own_questions = week.get("questions") is not None
    own_focus = week.get("focus_skills") is not None
    rate = _effective(week, default, "rate_focus_skills")
    focus = [s for s in _strings(_effective(week, default, "focus_skills")) if s in known]
    generated = {rating_key(skill): skill for skill in focus} if rate is not False else {}
    issues: list[Issue] = []
    if own_questions or own_focus:
        keys: set[str] = set()
        rated = set(generated.values())
        for index, question in enumerate(questions):
            if not isinstance(question, Mapping):
                continue
            where = (
                (*loc, "questions", index) if own_questions else _focus_loc(loc, focus, question)
            )
            issues += _question_key_issues(where, question, keys, generated, own_questions)
            only = None if own_questions else set(generated.values())
            issues += _rating_issues(where, question, rated, known, only)
    setting = own_questions or own_focus or week.get("rate_focus_skills") is not None
    if not questions and not generated and (loc == ("default_week",) or setting):
        issues.append(Issue(loc, "no_questions", {}))
    return issues


def _focus_loc(loc: Loc, focus: list[str], question: Mapping[str, Any]) -> Loc:
    """Where to point for a clash between inherited questions and this week's focus skills."""
    key, skill = question.get("key"), question.get("skill")
    for index, name in enumerate(focus):
        if rating_key(name) == key or name == skill:
            return (*loc, "focus_skills", index)
    return (*loc, "focus_skills")


def _question_key_issues(
    where: Loc,
    question: Mapping[str, Any],
    keys: set[str],
    generated: dict[str, str],
    own_questions: bool,
) -> list[Issue]:
    key = question.get("key")
    if not isinstance(key, str):
        return []
    issues = []
    if key in generated:
        ctx = {"key": key, "skill": generated[key]}
        issues.append(Issue((*where, "key"), "rating_key_clash", ctx))
    elif key in keys and own_questions:
        issues.append(Issue((*where, "key"), "duplicate_question", {"key": key}))
    keys.add(key)
    return issues


def _rating_issues(
    where: Loc,
    question: Mapping[str, Any],
    rated: set[str],
    known: set[str],
    only: set[str] | None,
) -> list[Issue]:
    """A skill rated twice in one week; with ``only``, report just clashes on those skills."""
    skill = question.get("skill")
    if question.get("kind") != "rating" or not isinstance(skill, str) or skill not in known:
        return []
    if skill in rated and (only is None or skill in only):
        return [Issue(where, "duplicate_rating", {"skill": skill})]
    rated.add(skill)
    return []


def _question_issues(loc: Loc, question: Mapping[str, Any], known: set[str]) -> list[Issue]:
    """Rules that depend on the question's kind, plus unknown skills."""
    issues: list[Issue] = []
    kind, skill = question.get("kind"), question.get("skill")
    if isinstance(skill, str) and skill not in known:
        ctx = {"skill": skill, "suggest_from": sorted(known)}
        issues.append(Issue((*loc, "skill"), "unknown_skill", ctx))
    if kind not in QUESTION_KINDS:
        return issues
    if kind == "rating" and skill is None:
        issues.append(Issue(loc, "rating_without_skill", {}))
    issues += _option_issues(loc, question, kind)
    if question.get("help") is True and not (
        kind == "choice" and question.get("options_from") is not None
    ):
        issues.append(Issue((*loc, "help"), "help_needs_focus_choice", {}))
    for field in ("starr", "max_length"):
        if kind != "text" and question.get(field) not in (None, False):
            issues.append(Issue((*loc, field), "text_only", {"name": field}))
    return issues


def _option_issues(loc: Loc, question: Mapping[str, Any], kind: str) -> list[Issue]:
    has_options = question.get("options") is not None
    has_from = question.get("options_from") is not None
    if kind != "choice":
        return [
            Issue((*loc, name), "options_not_choice", {"name": name})
            for name, present in (("options", has_options), ("options_from", has_from))
            if present
        ]
    if not has_options and not has_from:
        return [Issue(loc, "choice_without_options", {})]
    issues = _duplicate_options(loc, question.get("options"))
    if has_options and has_from:
        issues.append(Issue((*loc, "options_from"), "options_and_from", {}))
    return issues


def _duplicate_options(loc: Loc, options: Any) -> list[Issue]:
    """Options whose button values (slugs) collide, such as 'Ja!' and 'ja'."""
    issues, values = [], set()
    for index, option in enumerate(_list(options)):
        if not isinstance(option, str):
            continue
        value = option_value(option, index)
        if value in values:
            ctx = {"option": option, "value": value}
            issues.append(Issue((*loc, "options", index), "duplicate_option", ctx))
        values.add(value)
    return issues
