"""The one-line form of an alert (/gaten, the digest): "nieuw" only in its first week."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.gaps.alert_text import summary_line
from storage.records import AlertRecord

from .scenario import cohort_data

NOW = datetime(2026, 10, 16, tzinfo=UTC)


def alert(kind: str, skill: str | None, raised_week: int, status: str = "open") -> AlertRecord:
    return AlertRecord(1, 1, f"{kind}:1:{skill or '-'}", kind, 1, skill, status, {}, raised_week,
                       1, NOW, None, None, None, False, None, None, False)  # fmt: skip


def test_an_alert_is_new_in_the_week_it_came_and_open_after_that() -> None:
    data = cohort_data()  # the latest round is week 7
    assert summary_line(alert("student_gap", "samenwerken", 7), data) == (
        "#1 Anna de Vries — Samenwerken (sinds week 7, nieuw)"
    )
    assert summary_line(alert("student_gap", "samenwerken", 1), data) == (
        "#1 Anna de Vries — Samenwerken (sinds week 1, open)"
    )
    seen = alert("student_gap", "samenwerken", 1, "acknowledged")
    assert summary_line(seen, data, "en") == (
        "#1 Anna de Vries — Working together (since week 1, seen)"  # the plan's own English
    )
    early = replace(data, rounds=data.rounds[:1])
    assert summary_line(alert("student_gap", "samenwerken", 1), early).endswith("nieuw)")


def test_the_line_says_what_kind_of_signal_when_the_skill_alone_would_not() -> None:
    data = cohort_data()
    assert summary_line(alert("blind_spot", "veilig-klimaat", 5), data) == (
        "#1 Anna de Vries — blinde vlek: Veilig pedagogisch klimaat (sinds week 5, open)"
    )
    assert summary_line(alert("decline", None, 7), data, "en") == (
        "#1 Anna de Vries — self-ratings going down (since week 7, new)"
    )
