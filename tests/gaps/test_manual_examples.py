"""The manual's alert examples are real outputs of the product (issue 15: they cannot drift).

The scripted class of ``tests.gaps.scenario`` runs through the rules and the alert texts; the
result must stand, word for word, between the markers in docs/handleiding-mentoren.md. After a
deliberate change of the texts, rewrite the manual with ``MENTORBOT_WRITE_DOCS=1 pytest <this>``
and read the diff.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from bot.gaps.rules import GapSettings, evaluate

from .scenario import answers, digest_lines, rendered_alerts

MANUAL = Path(__file__).resolve().parents[2] / "docs" / "handleiding-mentoren.md"


def _block(texts: list[str]) -> str:
    return "\n\n".join(f"```\n{text}\n```" for text in texts)


def _fill(manual: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.S)
    assert pattern.search(manual), f"markers <!-- {name}:begin/end --> missing in the manual"
    return pattern.sub(lambda m: f"{m.group(1)}{body}\n{m.group(2)}", manual)


def test_the_scenario_raises_one_alert_of_each_kind_the_manual_explains() -> None:
    kinds = [f.kind for f in evaluate(answers(), GapSettings())]
    assert kinds == ["class_gap", "student_gap", "blind_spot", "silence"]


def test_the_manuals_alert_examples_are_what_the_bot_sends() -> None:
    manual = MANUAL.read_text(encoding="utf-8")
    expected = _fill(manual, "alerts", _block(rendered_alerts("nl")))
    expected = _fill(expected, "stricter", _block(["\n".join(digest_lines("nl"))]))
    if os.environ.get("MENTORBOT_WRITE_DOCS") == "1":
        MANUAL.write_text(expected, encoding="utf-8")
    assert manual == expected, "the manual's examples drifted: see the module docstring"


def test_the_same_alerts_read_in_english_without_dutch_words() -> None:
    english = "\n".join(rendered_alerts("en") + digest_lines("en"))
    assert "Self: 2 · 3 · 2 — Workplace: practising · practising · practising" in english
    assert (
        "More: /student Anna de Vries" in english and "[Seen] [Discuss] [Mute 2 weeks]" in english
    )
    for dutch in ("Signaal", "Zelf:", "Werkplek", "oefenen", "geeft zichzelf", "Meer:", "Gezien"):
        assert dutch not in english
