"""The shipped Dutch default plan."""

from __future__ import annotations

import re

import yaml

from bot.plans import default_plan, default_plan_text, dump_plan, load_plan
from bot.plans.calendar import parse_holiday

WORK_PROCESSES = {
    "veilig-klimaat": "Zorgt voor een veilig pedagogisch klimaat",
    "behoeften": "Inventariseert behoeften en wensen van het kind",
    "activiteiten": "Bereidt de uitvoering van activiteiten voor",
    "speel-leeromgeving": "Creëert een verantwoorde en stimulerende speel- en leeromgeving",
    "samenwerken": "Werkt samen met andere betrokkenen in de omgeving van het kind",
    "ontwikkeling": "Volgt en stimuleert de ontwikkeling en leren van het kind",
    "evalueren": "Evalueert eigen werkzaamheden",
    "professionele-ontwikkeling": "Werkt aan eigen professionele ontwikkeling",
    "kwaliteitszorg": "Werkt aan het bewaken en bevorderen van kwaliteitszorg",
}
STARR_PROMPT = (
    "Beschrijf een situatie van deze week op je stage. Gebruik STARR: Situatie, Taak, Actie, "
    "Resultaat, Reflectie. Laat namen van kinderen en ouders weg."
)
PERIODS = {1: "oriëntatie", 2: "het midden", 3: "verdieping", 4: "afronding"}
PERIODS_EN = {1: "orientation", 2: "the middle", 3: "going deeper", 4: "finishing"}


def test_default_plan_validates_and_is_cached() -> None:
    plan = default_plan()
    assert plan is default_plan()
    assert plan.language == "nl"
    assert sorted(plan.weeks) == list(range(1, 41))
    assert plan.holidays == []


def test_skills_are_the_nine_work_processes() -> None:
    plan = default_plan()
    assert {s.key: s.title for s in plan.skills} == WORK_PROCESSES
    assert all(s.work_process == s.title for s in plan.skills)
    assert all(s.short and len(s.short) <= 40 for s in plan.skills)
    tagged = {goal for s in plan.skills for goal in s.basic_goals}
    assert tagged == {
        "emotionele-veiligheid",
        "persoonlijke-competentie",
        "sociale-competentie",
        "normen-en-waarden",
    }


def test_every_skill_is_rated_at_least_once_in_every_three_weeks() -> None:
    plan = default_plan()
    everything = {s.key for s in plan.skills}
    rated = {
        n: {q.skill for q in plan.week(n).questions if q.kind == "rating"} for n in range(1, 41)
    }
    for first in range(1, 39):
        window = rated[first] | rated[first + 1] | rated[first + 2]
        assert window == everything, f"weeks {first}-{first + 2} miss {everything - window}"
    assert all(3 <= len(skills) <= 4 for skills in rated.values())


def test_every_week_asks_the_standard_reflection() -> None:
    plan = default_plan()
    for n in range(1, 42):
        week = plan.week(n)
        keys = [q.key for q in week.questions]
        ratings = [f"rating-{s.key}" for s in week.focus_skills]
        assert keys[: len(ratings)] == ratings
        starr = week.question("praktijksituatie")
        assert starr.starr and starr.kind == "text" and starr.prompt == STARR_PROMPT
        expectations = week.question("verwachtingen")
        assert [o.label for o in expectations.options] == [
            "Helemaal gelukt",
            "Grotendeels",
            "Deels",
            "Niet gelukt",
        ]
        help_question = week.question("hulp")
        assert help_question.help and help_question.optional and keys[-1] == "hulp"
        assert [o.skill for o in help_question.options] == [s.key for s in week.focus_skills] + [
            None
        ]
        assert all(len(o.label) <= 40 for q in week.questions for o in q.options)
        assert ("terugblik" in keys) == (n in (10, 20, 30, 40))


def test_expectations_are_distinct_and_follow_the_periods() -> None:
    plan = default_plan()
    texts = [plan.week(n).expectations for n in range(1, 41)]
    assert len(set(texts)) == 40
    assert plan.week(41).expectations not in texts
    for n, text in enumerate(texts, start=1):
        period = (n - 1) // 10 + 1
        assert text.startswith(f"Periode {period}, {PERIODS[period]} — week {n}:"), n
        assert "Op je stage" in text and "Lesstof" in text and "Focus deze week" in text
        assert 300 <= len(text) <= 3500
        for skill in plan.week(n).focus_skills:
            assert f"- {skill.short}:" in text, (n, skill.key)


def test_commented_holiday_example_is_valid() -> None:
    example = re.findall(r"^#\s+- (\d{4}-W\d\d(?:\.\.\d{4}-W\d\d)?)", default_plan_text(), re.M)
    assert len(example) == 5
    assert sum(len(parse_holiday(spec)) for spec in example) == 12
    text = default_plan_text().replace(
        "holidays: []", "holidays:\n" + "".join(f"  - {spec}\n" for spec in example)
    )
    assert load_plan(text).holidays == example


def test_default_plan_is_tidy_yaml() -> None:
    text = default_plan_text()
    assert "\t" not in text
    assert all(len(line) <= 100 for line in text.splitlines())
    assert yaml.safe_load(text)["name"] == default_plan().name


def test_default_plan_round_trips() -> None:
    plan = default_plan()
    again = load_plan(dump_plan(plan))
    assert again == plan
    assert all(again.week(n, "en") == plan.week(n, "en") for n in range(1, 42))


def test_every_student_text_has_english_and_the_english_weeks_follow_the_periods() -> None:
    plan = default_plan()
    assert plan.missing_translations() == []
    texts = [plan.week(n, "en").expectations for n in range(1, 41)]
    assert len(set(texts)) == 40
    for n, text in enumerate(texts, start=1):
        period = (n - 1) // 10 + 1
        assert text.startswith(f"Period {period}, {PERIODS_EN[period]} — week {n}:"), n
        assert "At your placement" in text and "This week's focus" in text
        for skill in plan.week(n, "en").focus_skills:
            assert f"- {skill.short}:" in text, (n, skill.key)
    english = plan.week(10, "en")
    assert english.question("praktijksituatie").prompt.startswith("Describe a situation")
    assert [o.label for o in english.question("verwachtingen").options] == [
        "Fully done",
        "Mostly",
        "Partly",
        "Not done",
    ]
    assert english.question("terugblik").prompt.startswith("Look back on this period")


def _week(number: int) -> str:
    return default_plan().week(number).expectations


def test_the_first_weeks_cover_what_a_first_month_intern_meets() -> None:
    assert "Personenregister Kinderopvang" in _week(1) and "VOG" in _week(1)
    assert "foto's van kinderen met je eigen" in _week(1) and "sociale media" in _week(1)
    assert "allergie" in _week(5) and "dieet" in _week(5)
    assert "zindelijk" in _week(5) and "wc" in _week(5)
    assert "Meertaligheid" in _week(11) and "VE (voorschoolse educatie)" in _week(11)
    assert "veilig slapen" in _week(16)


def test_the_duty_to_report_a_colleague_stands_beside_the_four_eyes_principle() -> None:
    week = _week(13)
    assert "vierogenprincipe" in week
    assert "vertrouwensinspecteur" in week and "meldplicht en overlegplicht" in week


def test_student_texts_use_the_students_words() -> None:
    """docs/woordenlijst.md: "stage" and "je mentorteam" to students; VE, not VVE."""
    plan = default_plan()
    for n in range(1, 42):
        week = plan.week(n)
        words = week.expectations + " ".join(q.prompt for q in week.questions)
        for staff_word in ("BPV", "VVE", "docent", "praktijkbeoordelaar", "ronde", "check-in"):
            assert not re.search(rf"\b{staff_word}", words), (n, staff_word)
