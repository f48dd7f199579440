"""Spelling is checked, not hoped for: Hunspell with the Dutch dictionary reads every Dutch text.

It reads the nl side of bot/texts/*.yaml, the Dutch texts of every shipped plan and the Dutch
docs. Domain words the dictionary does not know (werkbegeleider, vierogenprincipe, …) are in the
reviewed list tests/words/projectwoorden.txt. Placeholders, commands (/verder), URLs, code spans
and code blocks are not prose and are skipped. Without Hunspell the test skips, unless
MENTORBOT_REQUIRE_HUNSPELL=1 (set in .ci/run) demands it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.plans import shipped_plan, shipped_plan_names
from bot.plans.model import student_texts
from bot.texts import catalogue

ROOT = Path(__file__).resolve().parents[1]
WORD_LIST = ROOT / "tests" / "words" / "projectwoorden.txt"
DUTCH_DOCS = ["docs/handleiding-*.md", "docs/privacy.md", "docs/woordenlijst.md"]
DICTIONARY = "nl"

_NOT_PROSE = [
    re.compile(r"```.*?```", re.S),  # code blocks
    re.compile(r"`[^`\n]*`"),  # code spans
    re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\w+"),  # URLs and e-mail addresses
    re.compile(r"\]\([^)]*\)"),  # Markdown link targets
    re.compile(r"<[^>\n]+>"),  # <placeholders> and HTML tags
    re.compile(r"\{[^}\n]*\}"),  # {placeholders}
    re.compile(r"(?<![\w/])/[a-z_]+\w*"),  # commands such as /verder
    re.compile(r"\b[\w.-]+\.(?:ya?ml|json|csv|md|py|txt|db|png)\b"),  # file names
    re.compile(r"\b[a-z0-9]+(?:-[a-z0-9]+)*-W\d\d\b|\b\d{4}-W\d\d\b"),  # ISO weeks
]


def _prose(text: str) -> str:
    for pattern in _NOT_PROSE:
        text = pattern.sub(" ", text)
    return text


def dutch_texts() -> Iterator[tuple[str, str]]:
    """(where, Dutch text) for every text the test reads."""
    for key, versions in sorted(catalogue().items()):
        yield f"bot/texts: {key}", versions["nl"]
    for name in shipped_plan_names():
        for where, text in student_texts(shipped_plan(name)):
            yield f"plan {name}: {where}", str(text)
    for pattern in DUTCH_DOCS:
        for path in sorted(ROOT.glob(pattern)):
            for number, line in enumerate(_doc_lines(path), 1):
                yield f"{path.relative_to(ROOT)}:{number}", line


def _doc_lines(path: Path) -> list[str]:
    """The file's lines with fenced code blocks blanked (line numbers stay right)."""
    lines, in_code = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
            lines.append("")
        else:
            lines.append("" if in_code else line)
    return lines


def _hunspell() -> str | None:
    """Why Hunspell cannot run here, or None when it can."""
    if shutil.which("hunspell") is None:
        return "hunspell is not installed (apt-get install hunspell hunspell-nl)"
    listed = subprocess.run(["hunspell", "-D"], capture_output=True, text=True, input="").stderr
    if not re.search(rf"/{DICTIONARY}(_NL)?$", listed, re.M):
        return "the Dutch dictionary is missing (apt-get install hunspell-nl)"
    return None


WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
"""A word: letters, maybe joined by hyphens or apostrophes (BPV-plek, baby's)."""


def unknown_words(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(where, word) for every word Hunspell does not know, checked in one Hunspell run.

    A hyphenated word is right when Hunspell knows it whole, or knows each of its parts
    (Telegram-account, BPV-plek): Dutch joins a name or an abbreviation to a word that way.
    """
    found = [(where, word) for where, text in items for word in WORD.findall(_prose(text))]
    words = sorted({w for _, w in found} | {p for _, w in found for p in w.split("-")})
    known = {word for word, ok in zip(words, _check(words), strict=True) if ok}
    return [
        (where, word)
        for where, word in found
        if word not in known and not all(part in known for part in word.split("-"))
    ]


def _check(words: list[str]) -> list[bool]:
    """Whether Hunspell knows each word (pipe mode: one word per line)."""
    # "^" makes Hunspell read the rest of the line as text, never as a command.
    run = subprocess.run(
        ["hunspell", "-a", "-i", "utf-8", "-d", DICTIONARY, "-p", str(WORD_LIST)],
        input="".join(f"^{word}\n" for word in words),
        capture_output=True,
        text=True,
        check=True,
    )
    # After a banner line, Hunspell answers every line with one result line and an empty line;
    # "&" (with suggestions) and "#" (without) mark an unknown word.
    answers = run.stdout.split("\n", 1)[1].split("\n\n")
    return [not answer.startswith(("&", "#")) for answer in answers[: len(words)]]


def test_the_project_word_list_is_sorted_and_without_duplicates() -> None:
    words = [w for w in WORD_LIST.read_text(encoding="utf-8").splitlines() if w]
    assert words == sorted(set(words), key=str.casefold), "keep the list sorted, each word once"


def require_hunspell() -> None:
    """Skip (with the reason) without Hunspell, or fail when CI demands it."""
    problem = _hunspell()
    if problem is not None:
        if os.environ.get("MENTORBOT_REQUIRE_HUNSPELL") == "1":
            pytest.fail(f"{problem}; MENTORBOT_REQUIRE_HUNSPELL=1 demands it")
        pytest.skip(f"{problem}; spelling not checked")


def test_every_dutch_text_is_spelled_right() -> None:
    require_hunspell()
    items = list(dutch_texts())
    assert len(items) > 100  # the texts, the plans and the docs were all found
    wrong = unknown_words(items)
    report = "\n".join(f"{where}: {word}" for where, word in wrong)
    assert not wrong, (
        "Hunspell (nl) does not know these words. Fix the spelling, or add a real domain word "
        f"to {WORD_LIST.relative_to(ROOT)}:\n{report}"
    )


def test_a_misspelling_is_reported_with_its_place() -> None:
    """The check itself works: a known typo is found and named with where it is."""
    require_hunspell()
    found = unknown_words([("bot/texts: voorbeeld", "Je werkbegeleider geeft je feedbak.")])
    assert found == [("bot/texts: voorbeeld", "feedbak")]
