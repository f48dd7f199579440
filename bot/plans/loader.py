"""Read and write plans as YAML, reporting every problem with its line.

A plan that does not validate raises :class:`PlanError` listing *all* problems at once (YAML
syntax, duplicate keys, wrong types, unknown fields, unknown skills, …), each with the line of the
offending node in the file, so a mentor team can fix a plan in one pass.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.plans.checks import check_plan
from bot.plans.messages import Lang, Loc, issue_message, pydantic_message, text
from bot.plans.model import DEFER_CHECKS, Plan, Question, Skill, Week


@dataclass(frozen=True)
class PlanIssue:
    """One problem in a plan file: where (file and 1-based line, if known) and what."""

    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.message}"


class PlanError(ValueError):
    """A plan that does not validate; ``issues`` holds every problem, in file order."""

    def __init__(self, issues: list[PlanIssue]) -> None:
        self.issues = sorted(issues, key=lambda i: -1 if i.line is None else i.line)
        super().__init__("\n".join(str(issue) for issue in self.issues))


_YAML_PROBLEMS_NL = {
    "mapping values are not allowed here": "hier mag geen 'sleutel: waarde' staan "
    "(klopt de inspringing? staat er een ':' in tekst zonder aanhalingstekens?)",
    "could not find expected ':'": "verwachtte een ':' (ontbreekt een dubbele punt, "
    "of klopt de inspringing niet?)",
    "found character '\\t' that cannot start any token": "tabs zijn niet toegestaan in YAML: "
    "gebruik spaties",
    "expected <block end>": "de inspringing klopt niet",
    "found undefined alias": "onbekende verwijzing (alias)",
    "expected a single document": "het bestand bevat meer dan één YAML-document",
}


_ALIAS = "_mentorbot_alias"
"""Attribute set on a node that stands for an alias (``*name``) in the document."""


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose aliases carry the position where they are used, not where defined."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if not self.check_event(yaml.AliasEvent):
            return super().compose_node(parent, index)
        mark = self.peek_event().start_mark
        node = super().compose_node(parent, index)
        if node is None:
            return None
        clone = copy.copy(node)
        clone.start_mark = mark
        setattr(clone, _ALIAS, True)
        return clone


def _field_names() -> set[str]:
    models: list[type[BaseModel]] = [Plan, Week, Question, Skill]
    return {name for model in models for name in model.model_fields}


def _yaml_problem(exc: yaml.MarkedYAMLError, lang: Lang) -> str:
    problem = str(exc.problem or exc.context or "?")
    if lang != "en":
        said = (str(exc.context or ""), str(exc.problem or ""))
        for english, dutch in _YAML_PROBLEMS_NL.items():
            if any(part.startswith(english) for part in said):
                problem = dutch
                break
    return text("yaml_syntax", lang, problem=problem)


def _parse(source_text: str, source: str, lang: Lang) -> tuple[Node | None, Any, list[PlanIssue]]:
    """Compose and construct the YAML; duplicate keys are found before merges are flattened."""
    loader = _LineLoader(source_text)
    try:
        root = loader.get_single_node()
        duplicates = [] if root is None else list(_duplicate_keys(root, source, lang))
        data = None if root is None else loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise PlanError([PlanIssue(source, line, _yaml_problem(exc, lang))]) from exc
    finally:
        loader.dispose()
    return root, data, duplicates


def _duplicate_keys(root: Node, source: str, lang: Lang) -> Iterator[PlanIssue]:
    seen_nodes: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    if key.value in keys:
                        message = text("duplicate_yaml_key", lang, key=key.value)
                        yield PlanIssue(source, key.start_mark.line + 1, message)
                    keys.add(key.value)
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


def _child(node: Node, step: str | int) -> tuple[Node, int] | None:
    """The node at ``step`` below ``node`` and the line to report for it."""
    if isinstance(node, MappingNode):
        # after merge flattening, an explicit key follows the merged ones: the last one wins
        for key, value in reversed(node.value):
            if isinstance(key, ScalarNode) and key.value == str(step):
                return value, key.start_mark.line + 1
    if isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        item = node.value[step]
        return item, item.start_mark.line + 1
    return None


def line_of(root: Node, loc: Loc) -> int:
    """1-based line for a pydantic-style location: the deepest node of ``loc`` that exists.

    A mapping field points at its key's line, a list item at the item's line; a missing field
    points at the line of the mapping (or list item) that lacks it. Below an alias (``*name``)
    the line stays at the alias: that is where this use of the shared part is written.
    """
    node, line = root, root.start_mark.line + 1
    for step in loc:
        found = _child(node, step)
        if found is None:
            break
        node, line = found
        if getattr(node, _ALIAS, False):
            break
    return line


def load_plan(source_text: str, source: str = "<plan>", lang: Lang = "nl") -> Plan:
    """Validate YAML text into a :class:`Plan`; raise :class:`PlanError` with every problem."""
    root, data, issues = _parse(source_text, source, lang)
    if root is None or data is None:
        raise PlanError([*issues, PlanIssue(source, 1, text("empty_plan", lang))])
    plan: Plan | None = None
    try:
        plan = Plan.model_validate(data, context={DEFER_CHECKS: True})
    except ValidationError as exc:
        fields = _field_names()
        for error in exc.errors():
            message = pydantic_message(error, data, fields, lang)
            issues.append(PlanIssue(source, line_of(root, tuple(error["loc"])), message))
    for issue in check_plan(data):
        message = issue_message(issue.loc, issue.code, issue.ctx, data, lang)
        issues.append(PlanIssue(source, line_of(root, issue.loc), message))
    if issues or plan is None:
        raise PlanError(_unique(issues))
    return plan


def _unique(issues: list[PlanIssue]) -> list[PlanIssue]:
    return list(dict.fromkeys(issues))


def load_plan_file(path: str | Path, lang: Lang = "nl") -> Plan:
    """Read a plan file (UTF-8); unreadable files also raise :class:`PlanError`."""
    source = str(path)
    try:
        content = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise PlanError([PlanIssue(source, None, text("unreadable", lang, error=reason))]) from exc
    return load_plan(content, source=source, lang=lang)


class _Dumper(yaml.SafeDumper):
    """Block style with indented lists, literal blocks for multi-line text."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    short = all(isinstance(item, str) and "\n" not in item for item in value)
    flow = short and sum(len(item) + 2 for item in value) <= 70
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)


def dump_plan(plan: Plan) -> str:
    """The plan as tidy YAML that :func:`load_plan` reads back to an equal plan."""
    body = plan.model_dump(exclude_none=True, exclude_defaults=True)
    head = {"name": plan.name, "version": plan.version, "language": plan.language}
    data = {**head, **{k: v for k, v in body.items() if k not in head}}
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2)
