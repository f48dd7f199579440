"""A plan in two languages: every student-facing text is Dutch, or {nl: …, en: …}."""

from __future__ import annotations

import pytest

from bot.plans import PlanError, dump_plan, load_plan

BILINGUAL = """\
name: Tweetalig plan
skills:
  - key: samenwerken
    title: {nl: Werkt samen met anderen rond het kind, en: Works with others around the child}
    short: {nl: Samenwerken, en: Working together}
  - key: evalueren
    title: Evalueert eigen werkzaamheden
default_week:
  expectations:
    nl: Vraag je werkbegeleider om feedback.
    en: Ask your supervisor for feedback.
  focus_skills: [samenwerken, evalueren]
  questions:
    - key: verhaal
      kind: text
      starr: true
      prompt: {nl: Beschrijf een situatie., en: Describe a situation.}
    - key: gelukt
      kind: choice
      prompt:
        nl: Hoe ging het?
        en: How did it go?
      options:
        - {nl: Helemaal gelukt, en: Fully done}
        - {nl: Deels, en: Partly}
    - key: hulp
      kind: choice
      help: true
      optional: true
      prompt:
        nl: Waar wil je hulp bij?
        en: What would you like help with?
      options_from: focus_skills
"""


def test_english_week_has_english_texts_and_the_same_button_values() -> None:
    plan = load_plan(BILINGUAL)
    dutch, english = plan.week(1, "nl"), plan.week(1, "en")
    assert english.expectations == "Ask your supervisor for feedback."
    assert dutch.expectations == "Vraag je werkbegeleider om feedback."
    assert [s.label for s in english.focus_skills] == [
        "Working together",
        "Evalueert eigen werkzaamheden",
    ]
    assert english.question("rating-samenwerken").prompt.startswith("How did “Working together” go")
    assert (
        english.question("verhaal").hint is not None
        and "Situation" in english.question("verhaal").hint
    )
    gelukt_nl, gelukt_en = dutch.question("gelukt"), english.question("gelukt")
    assert [o.label for o in gelukt_en.options] == ["Fully done", "Partly"]
    # Answers stay comparable: the button values come from the Dutch labels in both languages.
    assert [o.value for o in gelukt_en.options] == [o.value for o in gelukt_nl.options]
    assert [o.value for o in gelukt_en.options] == ["helemaal-gelukt", "deels"]
    assert [o.label for o in english.question("hulp").options][-1] == "Nothing"


def test_a_text_without_english_falls_back_to_dutch_and_is_reported() -> None:
    plan = load_plan(BILINGUAL)
    assert plan.week(1, "en").focus_skills[1].title == "Evalueert eigen werkzaamheden"
    assert plan.missing_translations() == ["skill evalueren: title"]


def test_dump_keeps_both_languages() -> None:
    plan = load_plan(BILINGUAL)
    again = load_plan(dump_plan(plan))
    assert again.week(1, "en") == plan.week(1, "en")
    assert again.week(1, "nl") == plan.week(1, "nl")
    assert "en: Ask your supervisor for feedback." in dump_plan(plan)


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("{en: Only English}", "'expectations' moet tekst zijn, of een mapping met 'nl'"),
        ("{nl: Tekst, fr: Texte}", "'expectations' moet tekst zijn, of een mapping met 'nl'"),
        ("{nl: Tekst, en: ''}", None),
    ],
)
def test_a_malformed_translation_is_one_clear_line(broken: str, message: str | None) -> None:
    text = BILINGUAL.replace(
        "  expectations:\n    nl: Vraag je werkbegeleider om feedback.\n"
        "    en: Ask your supervisor for feedback.\n",
        f"  expectations: {broken}\n",
    )
    if message is None:  # an empty English text means "not translated yet": Dutch is used
        assert load_plan(text).week(1, "en").expectations == "Tekst"
        return
    with pytest.raises(PlanError) as caught:
        load_plan(text, "plan.yaml")
    assert f"plan.yaml:9: standaardweek: {message}" in str(caught.value)
