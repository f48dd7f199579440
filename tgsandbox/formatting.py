"""Telegram's `parse_mode` handling: markup in, visible text and entities out.

Telegram checks markup strictly ("Bad Request: can't parse entities: ...") and measures text
limits *after* the markup is removed, so the sandbox does the same. A user's name with `<` or `&`
in an HTML message is exactly the kind of bug this is meant to catch.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any


class FormattingError(ValueError):
    """Markup that Telegram cannot parse (the text follows "can't parse entities: ")."""


@dataclass
class ParsedText:
    """Visible text and its entities (offsets and lengths in UTF-16 code units, like Telegram)."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def parse(text: str, parse_mode: str | None) -> ParsedText:
    """Parse `text` with Telegram's `parse_mode` (None → plain text)."""
    if not parse_mode:
        return ParsedText(text)
    mode = parse_mode.lower()
    if mode == "html":
        return _HtmlParser(text).run()
    if mode == "markdownv2":
        return _MarkdownParser(text, v2=True).run()
    if mode == "markdown":
        return _MarkdownParser(text, v2=False).run()
    raise FormattingError(f"unsupported parse_mode {parse_mode!r}")


# --- HTML -------------------------------------------------------------------------------------

_HTML_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_HTML_OTHER = {"a", "span", "tg-emoji", "blockquote", "tg-time"}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)\s*(/?)>")
_ATTR = re.compile(r"""([a-zA-Z][\w-]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class _HtmlParser:
    """Telegram HTML: supported tags only; named entities only &lt; &gt; &amp; &quot;."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.out: list[str] = []
        self.length = 0  # UTF-16 length of the visible text so far
        self.stack: list[tuple[str, int, dict[str, Any]]] = []
        self.entities: list[dict[str, Any]] = []

    def run(self) -> ParsedText:
        pos = 0
        src = self.source
        while pos < len(src):
            char = src[pos]
            if char == "<":
                pos = self._tag(pos)
            elif char == "&":
                pos = self._entity(pos)
            else:
                nxt = min(
                    (i for i in (src.find("<", pos), src.find("&", pos)) if i >= 0),
                    default=len(src),
                )
                self._emit(src[pos:nxt])
                pos = nxt
        if self.stack:
            raise FormattingError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), self.entities)

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.length += utf16_len(text)

    def _entity(self, pos: int) -> int:
        match = _ENTITY.match(self.source, pos)
        if match is None:
            # Telegram keeps a lone '&' literally.
            self._emit("&")
            return pos + 1
        name = match[1]
        if name.startswith("#"):
            self._emit(html.unescape(match[0]))
        elif name in _NAMED_ENTITIES:
            self._emit(_NAMED_ENTITIES[name])
        else:
            # Other named entities (&nbsp;) are not decoded: Telegram shows them literally.
            self._emit("&")
            return pos + 1
        return match.end()

    def _tag(self, pos: int) -> int:
        match = _TAG.match(self.source, pos)
        if match is None:
            raise FormattingError(f"Unsupported start tag at byte offset {pos}")
        closing, name = match[1] == "/", match[2].lower()
        if name not in _HTML_SIMPLE and name not in _HTML_OTHER:
            raise FormattingError(f'Unsupported start tag "{name}" at byte offset {pos}')
        if closing:
            self._close(name, pos)
        else:
            attrs = {
                a[1].lower(): a[2].strip("\"'") if a[2] else "" for a in _ATTR.finditer(match[3])
            }
            self.stack.append((name, self.length, attrs))
        return match.end()

    def _close(self, name: str, pos: int) -> None:
        if not self.stack or self.stack[-1][0] != name:
            expected = f'"</{self.stack[-1][0]}>"' if self.stack else "no end tag"
            raise FormattingError(
                f'Unmatched end tag at byte offset {pos}, expected {expected}, found "</{name}>"'
            )
        _, start, attrs = self.stack.pop()
        entity = self._entity_for(name, attrs)
        if entity is not None and self.length > start:
            entity.update(offset=start, length=self.length - start)
            self.entities.append(entity)

    @staticmethod
    def _entity_for(name: str, attrs: dict[str, str]) -> dict[str, Any] | None:
        if name in _HTML_SIMPLE:
            return {"type": _HTML_SIMPLE[name]}
        if name == "a":
            url = attrs.get("href", "")
            if url.startswith("tg://user?id="):
                return {"type": "text_mention", "user": {"id": int(url.split("=", 1)[1] or 0)}}
            return {"type": "text_link", "url": url} if url else None
        if name == "span":
            if attrs.get("class") != "tg-spoiler":
                raise FormattingError('Tag "span" must have class "tg-spoiler"')
            return {"type": "spoiler"}
        if name == "blockquote":
            return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
        if name == "tg-emoji":
            return {"type": "custom_emoji", "custom_emoji_id": attrs.get("emoji-id", "")}
        return None


# --- Markdown / MarkdownV2 --------------------------------------------------------------------

_V2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_V2_MARKS = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}
_V1_MARKS = {"*": "bold", "_": "italic"}


class _MarkdownParser:
    """MarkdownV2 (strict about reserved characters) and legacy Markdown, as Telegram reads them."""

    def __init__(self, source: str, *, v2: bool) -> None:
        self.src = source
        self.v2 = v2
        self.marks = _V2_MARKS if v2 else _V1_MARKS
        self.out: list[str] = []
        self.length = 0
        self.stack: list[tuple[str, int]] = []
        self.entities: list[dict[str, Any]] = []

    def run(self) -> ParsedText:
        pos = 0
        while pos < len(self.src):
            pos = self._step(pos)
        if self.stack:
            mark = self.stack[-1][0]
            kind = self.marks.get(mark, "text_link")
            raise FormattingError(f"Can't find end of {kind} entity")
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), self.entities)

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.length += utf16_len(text)

    def _step(self, pos: int) -> int:
        src, char = self.src, self.src[pos]
        if char == "\\" and pos + 1 < len(src) and (self.v2 or src[pos + 1] in "_*`["):
            self._emit(src[pos + 1])
            return pos + 2
        if char == "`":
            return self._code(pos)
        if char == "[":
            return self._link_open(pos)
        if char == "]" and self.stack and self.stack[-1][0] == "[":
            return self._link_close(pos)
        mark = src[pos : pos + 2] if src[pos : pos + 2] in self.marks else char
        if mark in self.marks:
            self._toggle(mark)
            return pos + len(mark)
        if self.v2 and char == ">" and (pos == 0 or src[pos - 1] == "\n"):
            return pos + 1  # blockquote marker at a line start
        if self.v2 and char in _V2_RESERVED:
            raise FormattingError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        self._emit(char)
        return pos + 1

    def _toggle(self, mark: str) -> None:
        if self.stack and self.stack[-1][0] == mark:
            _, start = self.stack.pop()
            if self.length > start:
                self.entities.append(
                    {"type": self.marks[mark], "offset": start, "length": self.length - start}
                )
        else:
            self.stack.append((mark, self.length))

    def _code(self, pos: int) -> int:
        fence = "```" if self.src.startswith("```", pos) else "`"
        end = self._find_unescaped(fence, pos + len(fence))
        if end < 0:
            raise FormattingError(f"Can't find end of the entity starting at byte offset {pos}")
        body = self.src[pos + len(fence) : end]
        language = ""
        if fence == "```" and "\n" in body:
            first, rest = body.split("\n", 1)
            if first and " " not in first:
                language, body = first, rest
        if self.v2:
            body = re.sub(r"\\([`\\])", r"\1", body)
        start = self.length
        self._emit(body)
        entity: dict[str, Any] = {"type": "pre" if fence == "```" else "code"}
        if language:
            entity["language"] = language
        entity.update(offset=start, length=self.length - start)
        if entity["length"]:
            self.entities.append(entity)
        return end + len(fence)

    def _find_unescaped(self, needle: str, pos: int) -> int:
        while True:
            end = self.src.find(needle, pos)
            if end < 0 or not self.v2 or self.src[end - 1] != "\\":
                return end
            pos = end + 1

    def _link_open(self, pos: int) -> int:
        close = self.src.find("]", pos)
        if not self.v2 and (close < 0 or not self.src.startswith("(", close + 1)):
            self._emit("[")  # legacy Markdown keeps a bracket that starts no link
            return pos + 1
        self.stack.append(("[", self.length))
        return pos + 1

    def _link_close(self, pos: int) -> int:
        _, start = self.stack.pop()
        if not self.src.startswith("(", pos + 1):
            if self.v2:
                raise FormattingError("Character ']' is reserved and must be escaped")
            self._emit("]")
            return pos + 1
        end = self._find_unescaped(")", pos + 2)
        if end < 0:
            raise FormattingError(f"Can't find end of a url at byte offset {pos}")
        url = self.src[pos + 2 : end].replace("\\)", ")").replace("\\\\", "\\")
        if self.length > start:
            self.entities.append(
                {"type": "text_link", "url": url, "offset": start, "length": self.length - start}
            )
        return end + 1
