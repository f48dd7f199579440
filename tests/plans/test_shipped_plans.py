"""The plans that come with mentorbot: each loads with the loader, speaks both languages, and
holds what its class needs (domain.md: niveau 4, bso, the first year)."""

from __future__ import annotations

from importlib.resources import files

import pytest

from bot.plans import SHIPPED_PLANS, load_plan_file, shipped_plan, shipped_plan_names


@pytest.mark.parametrize("name", list(SHIPPED_PLANS))
def test_each_shipped_plan_loads_and_every_student_text_is_bilingual(name: str) -> None:
    plan = load_plan_file(str(files("bot.plans").joinpath(SHIPPED_PLANS[name])))
    assert plan == shipped_plan(name)
    assert plan.missing_translations() == []
    for number in range(1, plan.last_week + 2):
        dutch, english = plan.week(number, "nl"), plan.week(number, "en")
        assert dutch.expectations != english.expectations
        assert "Op je stage" in dutch.expectations and "At your placement" in english.expectations
        assert [q.key for q in dutch.questions] == [q.key for q in english.questions]
        for question in english.questions:
            assert [o.value for o in question.options] == [
                o.value for o in dutch.question(question.key).options
            ]


@pytest.mark.parametrize("name", list(SHIPPED_PLANS))
def test_week_one_checks_the_register_and_sets_the_phone_rules(name: str) -> None:
    first = shipped_plan(name).week(1).expectations
    assert "Personenregister Kinderopvang" in first and "VOG" in first
    assert "eigen" in first and "telefoon" in first and "sociale media" in first


def test_the_level_4_plan_is_about_coaching_policy_ve_and_partners() -> None:
    plan = shipped_plan("niveau4")
    assert "niveau 4" in plan.name
    assert {"coachen", "pedagogisch-beleid", "ve", "partners"} <= {s.key for s in plan.skills}
    weeks = " ".join(plan.week(n).expectations for n in range(1, plan.last_week + 1))
    assert "vertrouwensinspecteur" in weeks and "vierogenprincipe" in weeks
    assert "consultatiebureau" in weeks and "basisschool" in weeks and "VVE" not in weeks


def test_the_bso_plan_is_about_free_time_peers_say_homework_and_outings() -> None:
    plan = shipped_plan("bso")
    weeks = " ".join(plan.week(n).expectations for n in range(1, plan.last_week + 1))
    for topic in ("vrije tijd", "ruzie", "meebeslissen", "huiswerk", "uitstapje", "allergie"):
        assert topic in weeks.lower(), topic


def test_the_first_year_plan_observes_before_acting_and_rates_two_skills() -> None:
    plan = shipped_plan("eerste-jaar")
    assert "eerst kijken, dan doen" in plan.week(2).expectations
    assert "voorstellen aan ouders" in plan.week(3).expectations
    assert all(len(plan.week(n).focus_skills) == 2 for n in range(1, plan.last_week + 2))


def test_an_unknown_plan_name_is_a_key_error() -> None:
    assert "standaard" in shipped_plan_names()
    with pytest.raises(KeyError):
        shipped_plan("niveau5")
