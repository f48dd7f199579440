"""Check Bot API requests against the vendored spec, the way Telegram would reject them.

Two steps, because python-telegram-bot (22) sends form fields, not JSON:
`decode_params` turns the raw form strings into typed values (PTB sends a str value as is and
json.dumps() everything else: ints, bools, lists, objects; uploads go as multipart file parts
named after the parameter, or as `attach://<name>` for nested media), then `validate_request`
returns one human-readable line per violation (empty list = valid).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tgsandbox.formatting import FormattingError, parse, utf16_len
from tgsandbox.spec import ApiSpec, Field, load_spec

_SCALARS = {"Integer", "Float", "Boolean", "String", "True"}
# The action fields of an InlineKeyboardButton: Telegram wants exactly one of them.
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
# Fields whose length Telegram counts after parsing the markup named by a sibling field.
_PARSE_MODE_OF = {"text": "parse_mode", "caption": "parse_mode", "message_text": "parse_mode"}


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    field: str
    filename: str
    content_type: str
    data: bytes


def decode_params(
    method: str, form: Mapping[str, Any], files: Mapping[str, UploadedFile] | None = None
) -> dict[str, Any]:
    """Typed parameters from form strings (+ uploaded files under their parameter name)."""
    spec = load_spec().methods.get(method)
    params: dict[str, Any] = {}
    for name, raw in form.items():
        field = spec.fields.get(name) if spec else None
        types = field.types if field else ("String",)
        # JSON bodies arrive typed already; form and query values are always strings.
        params[name] = _decode_value(types, raw) if isinstance(raw, str) else raw
    for name, upload in (files or {}).items():
        if spec and name in spec.fields:
            params[name] = upload
    return params


def _decode_value(types: Sequence[str], raw: str) -> Any:
    """One form string → value; keep the string where String is allowed and JSON says otherwise."""
    if types == ("String",):
        return raw
    try:
        decoded = json.loads(raw)
    except ValueError:
        return raw
    if "String" not in types:
        return decoded
    # e.g. chat_id "123" (Integer or String) → 123, but a file_id "123" stays a string.
    kinds = {_kind(t) for t in types}
    return decoded if _json_kind(decoded) in kinds - {"string"} else raw


def _kind(type_name: str) -> str:
    if type_name.startswith("Array of "):
        return "array"
    return {
        "Integer": "integer",
        "Float": "number",
        "Boolean": "boolean",
        "True": "boolean",
        "String": "string",
    }.get(type_name, "object")


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, UploadedFile):
        return "file"
    return "object" if isinstance(value, dict) else type(value).__name__


def validate_request(
    method: str, params: Mapping[str, Any], files: Mapping[str, UploadedFile] | None = None
) -> list[str]:
    """All violations of one request; `files` resolves `attach://name` references."""
    spec = load_spec()
    method_spec = spec.methods.get(method)
    if method_spec is None:
        return [f"{method}: unknown method"]
    checker = _Checker(spec, files or {})
    checker.check_fields(method_spec.fields, params, method, is_method=True)
    return checker.errors


class _Checker:
    """Walks a request recursively and collects violations."""

    def __init__(self, spec: ApiSpec, files: Mapping[str, UploadedFile]) -> None:
        self.spec = spec
        self.files = files
        self.errors: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def check_fields(
        self, fields: Mapping[str, Field], value: Mapping[str, Any], path: str, *, is_method: bool
    ) -> None:
        """Unknown, missing and ill-typed fields of a method call or an object."""
        what = "parameter" if is_method else "field"
        for name in value:
            if name not in fields:
                self.fail(path, f"unknown {what} {name!r}")
        for name, field in fields.items():
            if name not in value:
                if field.required:
                    self.fail(path, f"missing required {what} {name!r}")
                continue
            child = f"{path}: {name}" if is_method else f"{path}.{name}"
            self.check_value(value[name], field.types, child)
            if field.length is not None:
                self.check_length(field, value, child)

    def check_value(self, value: Any, types: Sequence[str], path: str) -> None:
        """`value` must match one of the alternative `types`."""
        if len(types) == 1:
            self.check_type(value, types[0], path)
            return
        attempts = []
        for type_name in types:
            sub = _Checker(self.spec, self.files)
            sub.check_type(value, type_name, path)
            if not sub.errors:
                return
            attempts.append((type_name, sub.errors))
        # Report the alternative that the value most looks like, so the message points at the
        # real problem (a bad button inside an InlineKeyboardMarkup, not "not a ForceReply").
        same_kind = [a for a in attempts if _kind(a[0]) == _json_kind(value)]
        if not same_kind:
            self.fail(path, f"expected {' or '.join(types)}, got {_describe(value)}")
            return
        best = max(same_kind, key=lambda a: (self._affinity(value, a[0]), -len(a[1])))
        self.errors.extend(best[1])

    def _affinity(self, value: Any, type_name: str) -> int:
        """How many of an object's keys are fields of `type_name` (0 for non-objects)."""
        type_spec = self.spec.types.get(type_name)
        if not isinstance(value, dict) or type_spec is None:
            return 0
        if type_spec.is_abstract:
            return max((self._affinity(value, sub) for sub in type_spec.subtypes), default=0)
        return len(set(value) & set(type_spec.fields))

    def check_type(self, value: Any, type_name: str, path: str) -> None:
        """`value` must be of the single type `type_name`."""
        if type_name.startswith("Array of "):
            self._check_array(value, type_name.removeprefix("Array of "), path)
        elif type_name in _SCALARS:
            if not _scalar_ok(value, type_name):
                self.fail(path, f"expected {type_name}, got {_describe(value)}")
            elif isinstance(value, str) and value.startswith("attach://"):
                self._check_file(value, path)  # media fields are Strings that name file parts
        elif type_name == "InputFile":
            self._check_file(value, path)
        else:
            self._check_object(value, type_name, path)

    def _check_array(self, value: Any, item_type: str, path: str) -> None:
        if not isinstance(value, list):
            self.fail(path, f"expected Array of {item_type}, got {_describe(value)}")
            return
        for index, item in enumerate(value):
            self.check_value(item, (item_type,), f"{path}[{index}]")

    def _check_file(self, value: Any, path: str) -> None:
        if isinstance(value, UploadedFile):
            return
        if isinstance(value, str) and value.startswith("attach://"):
            if value.removeprefix("attach://") not in self.files:
                self.fail(path, f"{value} names no uploaded file part")
            return
        self.fail(path, f"expected an uploaded file (InputFile), got {_describe(value)}")

    def _check_object(self, value: Any, type_name: str, path: str) -> None:
        type_spec = self.spec.types.get(type_name)
        if type_spec is None:
            return  # not described by the spec: nothing to check against
        if type_spec.is_abstract:
            self._check_abstract(value, type_name, path)
            return
        if not isinstance(value, dict):
            self.fail(path, f"expected {type_name} object, got {_describe(value)}")
            return
        self.check_fields(type_spec.fields, value, path, is_method=False)
        rule = _TYPE_RULES.get(type_name)
        if rule is not None:
            rule(self, value, path)

    def _check_abstract(self, value: Any, type_name: str, path: str) -> None:
        discriminator = self.spec.discriminator(type_name)
        subtypes = self.spec.types[type_name].subtypes
        if discriminator is None:
            self.check_value(value, subtypes, path)
            return
        if not isinstance(value, dict):
            self.fail(path, f"expected {type_name} object, got {_describe(value)}")
            return
        key, mapping = discriminator
        tag = value.get(key)
        subtype = mapping.get(tag) if isinstance(tag, str) else None
        if subtype is None:
            allowed = ", ".join(sorted(mapping))
            self.fail(path, f"{type_name}.{key} must be one of {allowed}, got {value.get(key)!r}")
            return
        self._check_object(value, subtype, path)

    def check_length(self, field: Field, owner: Mapping[str, Any], path: str) -> None:
        """Documented length ranges; text and captions are measured after markup parsing."""
        value, limit = owner[field.name], field.length
        if not isinstance(value, str) or limit is None:
            return
        if limit.unit == "bytes":
            size = len(value.encode("utf-8"))
        else:
            visible = self._visible_text(field.name, value, owner, path)
            if visible is None:
                return
            if limit.low >= 1 and not visible.strip():
                self.fail(path, "must not be empty (Telegram trims whitespace)")
                return
            size = utf16_len(visible)
        if not limit.low <= size <= limit.high:
            self.fail(path, f"length {size} {limit.unit} is outside {limit.low}-{limit.high}")

    def _visible_text(
        self, name: str, value: str, owner: Mapping[str, Any], path: str
    ) -> str | None:
        """The text a user sees (markup removed); None if the markup does not parse."""
        mode = owner.get(_PARSE_MODE_OF.get(name, ""))
        if not isinstance(mode, str):
            return value
        try:
            return parse(value, mode).text
        except FormattingError as exc:
            self.fail(path, f"can't parse entities: {exc}")
            return None


def _check_inline_button(checker: _Checker, value: Mapping[str, Any], path: str) -> None:
    actions = [name for name in _BUTTON_ACTIONS if name in value]
    if len(actions) != 1:
        checker.fail(path, f"an inline button needs exactly one action field, got {actions}")


def _check_bot_command(checker: _Checker, value: Mapping[str, Any], path: str) -> None:
    command = value.get("command")
    if isinstance(command, str) and not _COMMAND.match(command):
        checker.fail(f"{path}.command", "only lowercase letters, digits and underscores")


_TYPE_RULES = {
    "InlineKeyboardButton": _check_inline_button,
    "BotCommand": _check_bot_command,
}


def _scalar_ok(value: Any, type_name: str) -> bool:
    if type_name == "Integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "Float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "Boolean":
        return isinstance(value, bool)
    if type_name == "True":
        return value is True
    return isinstance(value, str)


def _describe(value: Any) -> str:
    text = repr(value) if not isinstance(value, UploadedFile) else f"file {value.filename!r}"
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{_json_kind(value)} {text}"
