"""Small guarantees of the public interface of bot.gaps.rules."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.gaps.rules import (
    CohortAnswers,
    GapSettings,
    evaluate,
    fingerprint_of,
    ok_streak,
    parse_fingerprint,
)


@pytest.mark.parametrize("settings", [GapSettings(), GapSettings.spec_baseline()])
def test_no_answers_no_findings(settings: GapSettings) -> None:
    assert evaluate(CohortAnswers((), ()), settings) == []


def test_fingerprints_round_trip() -> None:
    for parts in [("student_gap", 12, "zorg:veilig"), ("class_gap", None, "spel"),
                  ("silence", 0, None), ("decline", 3, None)]:  # fmt: skip
        assert parse_fingerprint(fingerprint_of(*parts)) == parts
    assert fingerprint_of("silence", 0, None) == "silence:0:-"


def test_settings_are_checked_and_frozen() -> None:
    with pytest.raises(ValidationError):
        GapSettings(student_windw=3)  # type: ignore[call-arg]  # a typo is refused
    with pytest.raises(ValidationError):
        GapSettings(class_share=1.5)
    with pytest.raises(ValidationError):
        GapSettings().student_window = 4  # type: ignore[misc]


def test_unknown_fingerprint_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fingerprint"):
        ok_streak("question:1:-", CohortAnswers((), ()), GapSettings())
