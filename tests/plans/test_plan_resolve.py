"""Resolving plan weeks: generated ratings, concrete options, inheritance from default_week."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.plans import Plan, ResolvedWeek
from bot.texts import t


def test_week_generates_one_rating_per_focus_skill_first(small_plan: Plan) -> None:
    week = small_plan.week(1)
    assert [q.key for q in week.questions] == [
        "rating-samenwerken",
        "rating-evalueren",
        "starr",
        "gelukt",
        "hulp",
    ]
    rating = week.question("rating-samenwerken")
    assert rating.kind == "rating"
    assert rating.skill == "samenwerken"
    assert rating.prompt == (
        "Hoe ging „Samenwerken” deze week? Geef jezelf een cijfer: 1 = nog lastig, "
        "5 = gaat heel goed."
    )


def test_unlisted_week_uses_default_week(small_plan: Plan) -> None:
    week = small_plan.week(17)
    assert week.number == 17
    assert week.expectations == (
        "Deze week oefen je met samenwerken.\nVraag feedback aan je werkbegeleider.\n"
    )
    assert [s.key for s in week.focus_skills] == ["samenwerken", "evalueren"]


def test_help_question_gets_one_button_per_focus_skill_plus_none(small_plan: Plan) -> None:
    help_question = small_plan.week(1).question("hulp")
    assert help_question.help and help_question.optional
    assert [(o.label, o.value, o.skill) for o in help_question.options] == [
        ("Samenwerken", "samenwerken", "samenwerken"),
        ("Evalueert eigen werkzaamheden", "evalueren", "evalueren"),
        ("Nergens", "nergens", None),
    ]


def test_literal_options_get_stable_slug_values(small_plan: Plan) -> None:
    choice = small_plan.week(1).question("gelukt")
    assert [o.value for o in choice.options] == [
        "helemaal-gelukt",
        "grotendeels",
        "deels",
        "niet-gelukt",
    ]
    assert choice.option("deels") is not None
    assert choice.option("misschien") is None
    assert all(o.skill is None for o in choice.options)


def test_text_question_carries_starr_hint_and_limit(small_plan: Plan) -> None:
    starr = small_plan.week(1).question("starr")
    assert starr.starr
    assert starr.hint == t("question.starr_hint", "nl")
    assert starr.max_length == 2000
    assert small_plan.week(1).question("gelukt").max_length is None


def test_week_inherits_what_it_leaves_out(small_plan: Plan) -> None:
    week = small_plan.week(2)
    assert [s.key for s in week.focus_skills] == ["veilig-klimaat"]
    assert week.expectations == small_plan.week(1).expectations
    assert [q.key for q in week.questions] == ["rating-veilig-klimaat", "starr", "gelukt", "hulp"]
    assert [o.value for o in week.question("hulp").options] == ["veilig-klimaat", "nergens"]
    assert week.question("hulp").options[0].label == "Zorgt voor een veilig pedagogisch klimaat"


def test_week_can_turn_off_ratings_and_replace_questions(small_plan: Plan) -> None:
    week = small_plan.week(3)
    assert week.expectations == "Alleen een open vraag deze week."
    assert [q.key for q in week.questions] == ["starr"]


def test_low_answers(small_plan: Plan) -> None:
    week = small_plan.week(1)
    rating = week.question("rating-evalueren")
    assert [rating.low_skill(n) for n in (1, 2, 3, 4, 5)] == ["evalueren"] * 2 + [None] * 3
    help_question = week.question("hulp")
    assert help_question.low_skill("samenwerken") == "samenwerken"
    assert help_question.low_skill("nergens") is None
    assert help_question.low_skill("onbekend") is None
    assert week.question("gelukt").low_skill("niet-gelukt") is None


def test_lookups_fail_loudly(small_plan: Plan) -> None:
    with pytest.raises(ValueError):
        small_plan.week(0)
    with pytest.raises(KeyError):
        small_plan.skill("zwemmen")
    with pytest.raises(KeyError):
        small_plan.week(1).question("zwemmen")
    assert small_plan.skill("evalueren").label == "Evalueert eigen werkzaamheden"
    assert small_plan.last_week == 3


def test_resolved_week_survives_json(small_plan: Plan) -> None:
    week = small_plan.week(2)
    assert ResolvedWeek.model_validate_json(week.model_dump_json()) == week


def test_models_are_frozen(small_plan: Plan) -> None:
    with pytest.raises(ValidationError):
        small_plan.name = "anders"  # type: ignore[misc]


def test_direct_construction_runs_the_same_checks(small_plan: Plan) -> None:
    data = small_plan.model_dump()
    data["default_week"]["focus_skills"] = ["samenwerkenn"]
    with pytest.raises(ValidationError) as caught:
        Plan.model_validate(data)
    assert "standaardweek: onbekende vaardigheid 'samenwerkenn'" in str(caught.value)
