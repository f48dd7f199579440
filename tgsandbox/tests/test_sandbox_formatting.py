"""Telegram markup parsing: visible text, entities (UTF-16 offsets) and Telegram's errors."""

from __future__ import annotations

import pytest

from tgsandbox.formatting import FormattingError, parse, utf16_len


def test_html_entities_and_offsets_in_utf16() -> None:
    parsed = parse("😀 <b>Hoi</b> &lt;3 &amp; &nbsp;", "HTML")
    assert parsed.text == "😀 Hoi <3 & &nbsp;"
    assert parsed.entities == [{"type": "bold", "offset": 3, "length": 3}]
    assert utf16_len("😀") == 2


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("a < b", "Unsupported start tag"),
        ("<script>x</script>", 'Unsupported start tag "script"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ('<span class="red">x</span>', "tg-spoiler"),
    ],
)
def test_html_errors(source: str, error: str) -> None:
    with pytest.raises(FormattingError, match=error):
        parse(source, "HTML")


def test_html_links_and_nesting() -> None:
    parsed = parse('<a href="https://x.nl">klik</a> <b>vet <i>schuin</i></b>', "HTML")
    assert parsed.text == "klik vet schuin"
    assert {"type": "text_link", "url": "https://x.nl", "offset": 0, "length": 4} in parsed.entities
    assert {"type": "italic", "offset": 9, "length": 6} in parsed.entities


def test_markdown_v2() -> None:
    parsed = parse(
        "*vet* _schuin_ __onder__ ||geheim|| `co\\`de` [link](https://x.nl/a\\)b)", "MarkdownV2"
    )
    assert parsed.text == "vet schuin onder geheim co`de link"
    kinds = [e["type"] for e in parsed.entities]
    assert kinds == ["bold", "italic", "underline", "spoiler", "code", "text_link"]
    assert parsed.entities[-1]["url"] == "https://x.nl/a)b"
    with pytest.raises(FormattingError, match="reserved"):
        parse("1-2", "MarkdownV2")
    with pytest.raises(FormattingError, match="Can't find end"):
        parse("*open", "MarkdownV2")


def test_legacy_markdown_is_lenient_about_punctuation() -> None:
    parsed = parse("*Week 3.* [x] klaar!", "Markdown")
    assert parsed.text == "Week 3. [x] klaar!"
    assert parsed.entities == [{"type": "bold", "offset": 0, "length": 7}]


def test_plain_text_and_unknown_mode() -> None:
    assert parse("<b>", None).text == "<b>"
    with pytest.raises(FormattingError, match="unsupported parse_mode"):
        parse("x", "BBCode")
