"""Fixtures for the plan tests: a small valid plan in YAML."""

from __future__ import annotations

import pytest

from bot.plans import Plan, load_plan

SMALL_PLAN = """\
name: Testplan
version: 2
skills:
  - key: samenwerken
    title: Werkt samen met andere betrokkenen in de omgeving van het kind
    short: Samenwerken
    basic_goals: [sociale-competentie]
  - key: evalueren
    title: Evalueert eigen werkzaamheden
  - key: veilig-klimaat
    title: Zorgt voor een veilig pedagogisch klimaat
    work_process: Zorgt voor een veilig pedagogisch klimaat
holidays: ["2026-W43", "2026-W52..2026-W53"]
default_week:
  expectations: |
    Deze week oefen je met samenwerken.
    Vraag feedback aan je werkbegeleider.
  focus_skills: [samenwerken, evalueren]
  questions:
    - &starr
      key: starr
      kind: text
      starr: true
      prompt: Beschrijf een situatie.
    - key: gelukt
      kind: choice
      prompt: Hoe ging het?
      options: [Helemaal gelukt, Grotendeels, Deels, Niet gelukt]
    - key: hulp
      kind: choice
      help: true
      optional: true
      prompt: Waar wil je hulp bij?
      options_from: focus_skills
weeks:
  2:
    focus_skills: [veilig-klimaat]
  3:
    expectations: Alleen een open vraag deze week.
    rate_focus_skills: false
    questions:
      - *starr
"""


MANY_ERRORS = """\
name: Kapot plan
version: 1
skills:
  - key: samenwerken
    title: Samenwerken
  - key: samenwerken
    title: Nog een keer
  - key: Evalueren
    title: Evalueren
default_week:
  expectations: Doe je best.
  focus_skills: [samenwerken]
weeks:
  3:
    focus_skills: [samenwerkenn]
    questions:
      - key: cijfer
        kind: rating
        prompt: Hoe ging het?
      - key: cijfer
        kind: choice
        prompt: Kies
      - key: verhaal
        kind: text
        prompt: Vertel
        promt: typo
holidays: [2026-W54]
"""


@pytest.fixture
def small_plan_text() -> str:
    """YAML text of a small valid plan (3 skills, weeks 2 and 3 listed)."""
    return SMALL_PLAN


@pytest.fixture
def small_plan() -> Plan:
    """The small plan, loaded."""
    return load_plan(SMALL_PLAN, "small.yaml")


@pytest.fixture
def many_errors_text() -> str:
    """YAML text of a plan with eight problems on known lines."""
    return MANY_ERRORS
