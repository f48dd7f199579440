"""The example in docs/plans.md is a valid plan and behaves as the text says."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from bot.plans import PlanError, load_plan

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plans.md"


def _example() -> str:
    match = re.search(r"```yaml\n(name: .*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert match, "docs/plans.md lost its full example"
    return match.group(1)


def test_docs_example_loads_and_resolves_as_described() -> None:
    plan = load_plan(_example(), "docs/plans.md")
    week = plan.week(1)
    assert [q.key for q in week.questions] == [
        "rating-veilig-klimaat",
        "rating-samenwerken",
        "praktijksituatie",
        "verwachtingen",
        "hulp",
    ]
    assert [o.label for o in week.question("hulp").options] == [
        "Veilig pedagogisch klimaat",
        "Samenwerken",
        "Nergens",
    ]
    assert [q.key for q in plan.week(5).questions] == ["praktijksituatie"]
    assert plan.week(2).expectations == plan.week(41).expectations


def test_docs_week_table() -> None:
    plan = load_plan(_example().replace("2026-W52..2026-W53", "2026-W52..2027-W01"))
    start = date(2026, 9, 2)
    table = {(2026, 36): 1, (2026, 42): 7, (2026, 43): None, (2026, 44): 8, (2027, 2): 16}
    for (year, week), number in table.items():
        assert plan.teaching_week(start, date.fromisocalendar(year, week, 1)) == number


def test_docs_error_listing_matches_the_loader(many_errors_text: str) -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(many_errors_text, "klas-3a.yaml")
    listed = re.search(r"```text\n(klas-3a\.yaml:.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert listed
    shown = listed.group(1).splitlines()
    assert set(shown) <= set(str(caught.value).splitlines())
