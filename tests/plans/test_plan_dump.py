"""Dumping a plan to YAML and loading it back."""

from __future__ import annotations

import yaml

from bot.plans import Plan, dump_plan, load_plan


def test_round_trip_equals(small_plan: Plan) -> None:
    text = dump_plan(small_plan)
    assert load_plan(text, "dumped.yaml") == small_plan
    assert dump_plan(load_plan(text)) == text


def test_dump_is_tidy(small_plan: Plan) -> None:
    text = dump_plan(small_plan)
    assert text.startswith(
        "name: Testplan\nversion: 2\nlanguage: nl\nskills:\n  - key: samenwerken\n"
    )
    assert "  expectations: |\n    Deze week oefen je met samenwerken.\n" in text
    assert "focus_skills: [samenwerken, evalueren]" in text
    assert "help: true" in text and "optional: false" not in text
    data = yaml.safe_load(text)
    assert data["weeks"][3] == {
        "expectations": "Alleen een open vraag deze week.",
        "rate_focus_skills": False,
        "questions": [
            {"key": "starr", "kind": "text", "prompt": "Beschrijf een situatie.", "starr": True}
        ],
    }


def test_round_trip_of_awkward_text(small_plan: Plan) -> None:
    awkward = (
        "Regel met spaties aan het eind   \n\n  ingesprongen: met dubbele punt\n# geen commentaar"
    )
    week = small_plan.default_week.model_copy(update={"expectations": awkward})
    plan = small_plan.model_copy(update={"default_week": week})
    assert load_plan(dump_plan(plan)).week(1).expectations == awkward
