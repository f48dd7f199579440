"""Invalid plans: every problem is reported at once, with the line of the offending node."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.plans import PlanError, PlanIssue, load_plan, load_plan_file


def problems(source: str, lang: str = "nl") -> list[tuple[int | None, str]]:
    """(line, message) of every issue; fails when the plan loads."""
    with pytest.raises(PlanError) as caught:
        load_plan(source, "plan.yaml", lang=lang)
    return [(issue.line, issue.message) for issue in caught.value.issues]


def test_every_error_with_its_line(many_errors_text: str) -> None:
    assert problems(many_errors_text) == [
        (6, "vaardigheid 'samenwerken': dubbele vaardigheid 'samenwerken'"),
        (
            8,
            "vaardigheid 'Evalueren': 'key' moet een sleutel van kleine letters, cijfers en '-' "
            "zijn, niet 'Evalueren'",
        ),
        (15, "week 3: onbekende vaardigheid 'samenwerkenn' (bedoel je 'samenwerken'?)"),
        (17, "week 3, vraag 'cijfer': beoordelingsvraag (kind: rating) zonder 'skill'"),
        (
            20,
            "week 3, vraag 'cijfer': keuzevraag (kind: choice) zonder 'options' of 'options_from'",
        ),
        (20, "week 3, vraag 'cijfer': dubbele vraagsleutel 'cijfer'"),
        (26, "week 3, vraag 'verhaal': onbekend veld 'promt' (bedoel je 'prompt'?)"),
        (27, "vakanties: week '2026-W54' bestaat niet: dat jaar heeft 53 ISO-weken"),
    ]


def test_str_lists_file_line_message(many_errors_text: str) -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(many_errors_text, "klas-3a.yaml")
    lines = str(caught.value).splitlines()
    assert len(lines) == 8
    assert lines[2] == (
        "klas-3a.yaml:15: week 3: onbekende vaardigheid 'samenwerkenn' (bedoel je 'samenwerken'?)"
    )


def test_messages_in_english_on_request(many_errors_text: str) -> None:
    english = problems(many_errors_text, lang="en")
    assert english[2] == (15, "week 3: unknown skill 'samenwerkenn' (did you mean 'samenwerken'?)")
    assert english[5] == (20, "week 3, question 'cijfer': duplicate question key 'cijfer'")


TOO_LONG = "x" * 3501
TYPES_AND_LENGTHS = f"""\
name: Plan
skills:
  - key: samenwerken
    title: Samenwerken
default_week:
  expectations: "{TOO_LONG}"
  focus_skills: [samenwerken, samenwerken]
  rate_focus_skills: misschien
  questions:
    - key: keuze
      kind: choice
      prompt: Kies maar
      options:
        - Ja
        - No
        - Een optie die veel te lang is voor een knop in Telegram
    - key: open
      kind: essay
      prompt: Vertel
"""


def test_types_and_lengths() -> None:
    assert problems(TYPES_AND_LENGTHS) == [
        (6, "standaardweek: 'expectations' is te lang (3501 tekens, maximaal 3500)"),
        (7, "standaardweek: vaardigheid 'samenwerken' staat twee keer in 'focus_skills'"),
        (8, "standaardweek: 'rate_focus_skills' moet true of false zijn"),
        (
            15,
            "standaardweek, vraag 'keuze': 'options' nr. 2 moet tekst zijn "
            "(zet de tekst tussen aanhalingstekens)",
        ),
        (16, "standaardweek, vraag 'keuze': 'options' nr. 3 is te lang (55 tekens, maximaal 40)"),
        (18, "standaardweek, vraag 'open': 'kind' moet 'rating', 'text' of 'choice' zijn"),
    ]


MISSING = """\
name: Plan
skills:
  - key: samenwerken
default_week:
  focus_skills: [samenwerken]
  rate_focus_skills: false
weeks:
  0:
    expectations: Nul
  week4:
    expectations: Vier
"""


def test_missing_fields_and_bad_week_numbers() -> None:
    assert problems(MISSING) == [
        (3, "vaardigheid 'samenwerken': veld 'title' ontbreekt"),
        (4, "standaardweek: veld 'expectations' ontbreekt"),
        (
            4,
            "standaardweek: deze week heeft geen reflectievragen: voeg 'questions' toe of zet "
            "'rate_focus_skills' aan",
        ),
        (8, "weken: weeknummer '0' moet een geheel getal van 1 of hoger zijn"),
        (10, "weken: weeknummer 'week4' moet een geheel getal van 1 of hoger zijn"),
    ]


KIND_RULES = """\
name: Plan
skills:
  - key: samenwerken
    title: Samenwerken
default_week:
  expectations: Doe je best.
  focus_skills: [samenwerken]
  questions:
    - key: open
      kind: text
      prompt: Vertel
      options: [Ja, Nee]
    - key: keuze
      kind: choice
      prompt: Kies
      starr: true
      options: [Ja!, ja, Nee]
      options_from: focus_skills
    - key: hulp
      kind: text
      help: true
      prompt: Waar wil je hulp bij?
    - key: extra
      kind: rating
      skill: samenwerken
      prompt: Nog een cijfer?
    - key: rating-samenwerken
      kind: text
      prompt: Botsing
"""


def test_rules_that_depend_on_the_kind() -> None:
    assert problems(KIND_RULES) == [
        (
            12,
            "standaardweek, vraag 'open': 'options' hoort alleen bij een keuzevraag (kind: choice)",
        ),
        (16, "standaardweek, vraag 'keuze': 'starr' hoort alleen bij een open vraag (kind: text)"),
        (
            17,
            "standaardweek, vraag 'keuze': optie 'ja' lijkt te veel op een andere optie "
            "(knopwaarde 'ja')",
        ),
        (18, "standaardweek, vraag 'keuze': gebruik 'options' of 'options_from', niet allebei"),
        (
            21,
            "standaardweek, vraag 'hulp': een hulpvraag (help: true) moet een keuzevraag met "
            "'options_from: focus_skills' zijn",
        ),
        (
            23,
            "standaardweek, vraag 'extra': vaardigheid 'samenwerken' wordt deze week twee keer "
            "beoordeeld",
        ),
        (
            27,
            "standaardweek, vraag 'rating-samenwerken': vraagsleutel 'rating-samenwerken' botst "
            "met de automatische beoordelingsvraag voor 'samenwerken'",
        ),
    ]


INHERITED = """\
name: Plan
skills:
  - key: samenwerken
    title: Samenwerken
  - key: evalueren
    title: Evalueren
default_week:
  expectations: Doe je best.
  focus_skills: [samenwerken]
  questions:
    - &open
      key: rating-evalueren
      kind: text
      prompt: Vertel
weeks:
  2:
    focus_skills: [samenwerken, evalueren]
  3:
    questions: [*open, *open]
"""


def test_clashes_with_inherited_parts_point_at_the_week() -> None:
    assert problems(INHERITED) == [
        (
            17,
            "week 2: vraagsleutel 'rating-evalueren' botst met de automatische "
            "beoordelingsvraag voor 'evalueren'",
        ),
        (19, "week 3, vraag 'rating-evalueren': dubbele vraagsleutel 'rating-evalueren'"),
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "2026-43",
            "'2026-43' is geen geldige vakantieweek: schrijf een ISO-week zoals '2026-W43' "
            "of een reeks zoals '2026-W52..2027-W01'",
        ),
        ("2027-W53", "week '2027-W53' bestaat niet: dat jaar heeft 52 ISO-weken"),
        (
            "2027-W02..2026-W50",
            "reeks '2027-W02..2026-W50' loopt achteruit: zet de vroegste week eerst",
        ),
        ("2026-W01..2027-W52", "reeks '2026-W01..2027-W52' is langer dan 60 weken"),
        (
            "2026-W01..2026-W02..2026-W03",
            "'2026-W01..2026-W02..2026-W03' is geen geldige "
            "vakantieweek: schrijf een ISO-week zoals '2026-W43' of een reeks zoals "
            "'2026-W52..2027-W01'",
        ),
    ],
)
def test_bad_holidays(small_plan_text: str, spec: str, message: str) -> None:
    text = small_plan_text.replace('holidays: ["2026-W43", ', f'holidays: ["{spec}", ')
    assert problems(text) == [(13, f"vakanties: {message}")]


def test_holiday_that_yaml_reads_as_a_date(small_plan_text: str) -> None:
    text = small_plan_text.replace('holidays: ["2026-W43", ', "holidays: [2026-10-19, ")
    assert problems(text) == [
        (13, "vakanties: 'holidays' nr. 1 moet tekst zijn (zet de tekst tussen aanhalingstekens)")
    ]


@pytest.mark.parametrize(
    ("source", "line", "start"),
    [
        (
            "name: Plan\nskills:\n  - key: samenwerken\n    title: Samen: werken\n",
            4,
            "ongeldige YAML: hier mag geen 'sleutel: waarde' staan",
        ),
        ("name: Plan\nskills:\n\t- key: x\n", 3, "ongeldige YAML: tabs zijn niet toegestaan"),
        ("name: 'Plan\nversion: 1\n", 3, "ongeldige YAML: "),
        ("name: Plan\nversion: *nergens\n", 2, "ongeldige YAML: onbekende verwijzing"),
        ("name: Plan\n---\nname: Plan\n", 2, "ongeldige YAML: het bestand bevat meer dan één"),
    ],
)
def test_yaml_syntax_errors_give_their_line(source: str, line: int, start: str) -> None:
    [(got_line, message)] = problems(source)
    assert got_line == line
    assert message.startswith(start)


def test_duplicate_yaml_keys_are_refused(small_plan_text: str) -> None:
    text = small_plan_text.replace("version: 2\n", "version: 2\nname: Nog een naam\n")
    assert problems(text) == [(3, "sleutel 'name' staat twee keer in dezelfde mapping")]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("", [(1, "het plan is leeg")]),
        ("# alleen commentaar\n", [(1, "het plan is leeg")]),
        ("- een\n- lijst\n", [(1, "het plan moet een mapping (sleutel: waarde) zijn")]),
        (
            "name: Plan\n",
            [(1, "plan: veld 'skills' ontbreekt"), (1, "plan: veld 'default_week' ontbreekt")],
        ),
        (
            "name: Plan\nlanguage: en\n",
            [
                (1, "plan: veld 'skills' ontbreekt"),
                (1, "plan: veld 'default_week' ontbreekt"),
                (2, "plan: 'language' moet 'nl' zijn"),
            ],
        ),
    ],
)
def test_degenerate_documents(source: str, expected: list[tuple[int, str]]) -> None:
    assert problems(source) == expected


def test_load_plan_file(tmp_path: Path, small_plan_text: str) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(small_plan_text, encoding="utf-8")
    assert load_plan_file(path).name == "Testplan"
    path.write_text(small_plan_text.replace("[samenwerken, evalueren]", "[zwemmen]"), "utf-8")
    with pytest.raises(PlanError) as caught:
        load_plan_file(path)
    assert str(caught.value) == f"{path}:18: standaardweek: onbekende vaardigheid 'zwemmen'"


def test_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "weg.yaml"
    with pytest.raises(PlanError) as caught:
        load_plan_file(missing)
    [issue] = caught.value.issues
    assert issue == PlanIssue(
        str(missing), None, "kan het bestand niet lezen: No such file or directory"
    )
    assert str(caught.value) == f"{missing}: kan het bestand niet lezen: No such file or directory"
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("name: Crèche\n".encode("latin-1"))
    with pytest.raises(PlanError, match="kan het bestand niet lezen"):
        load_plan_file(latin1)
