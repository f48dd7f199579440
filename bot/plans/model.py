"""The plan of a cohort: skills, weekly expectations and reflection questions, holidays.

``Plan`` is what a mentor team writes (as YAML, see ``docs/plans.md``); ``Plan.week(n)`` turns it
into a ``ResolvedWeek``: everything the bot needs to send week *n*, with rating questions
generated for the focus skills and ``options_from`` turned into concrete buttons.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.plans import calendar
from bot.plans.checks import check_plan, option_value, rating_key
from bot.plans.local import LocalText, TextLimits
from bot.plans.messages import issue_message, text
from bot.texts import t

DEFER_CHECKS = "defer_plan_checks"
"""Validation-context flag: the loader runs the cross-reference checks itself (with lines)."""

BasicGoal = Literal[
    "emotionele-veiligheid", "persoonlijke-competentie", "sociale-competentie", "normen-en-waarden"
]
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SkillKey = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=32)]
QuestionKey = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=48)]
ButtonText = Annotated[LocalText, TextLimits(max_length=40)]
ShortText = Annotated[LocalText, TextLimits(max_length=200)]
PromptText = Annotated[LocalText, TextLimits(max_length=1000)]
ExpectationsText = Annotated[LocalText, TextLimits(max_length=3500)]
"""Every student-facing text of a plan is Dutch, or a mapping ``{nl: …, en: …}``."""

NONE_OPTION_VALUE = "nergens"
LOW_RATING = 2
"""Ratings at or below this value count as low."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Skill(_Frozen):
    """A skill that students rate; usually one work process of the qualification file."""

    key: SkillKey
    title: ShortText
    short: ButtonText | None = None
    """Short title for buttons and sentences (at most 40 characters); else the title."""
    work_process: ShortText | None = None
    """The formal title in the qualification file, for staff; never put into a question."""
    basic_goals: list[BasicGoal] = []

    @property
    def label(self) -> str:
        """Text for a button that names this skill (Dutch; see :meth:`in_language`)."""
        return self.short or self.title

    def label_in(self, lang: str) -> str:
        """The button text in ``lang`` (Dutch where the plan gives no translation)."""
        return LocalText.pick(self.label, lang)

    def in_language(self, lang: str) -> Skill:
        """This skill with its texts in ``lang`` (Dutch where the plan gives no translation)."""
        return self.model_copy(
            update={
                "title": LocalText.pick(self.title, lang),
                "short": LocalText.pick(self.short, lang) if self.short else None,
            }
        )


class Question(_Frozen):
    """One reflection question as written in the plan."""

    key: QuestionKey
    kind: Literal["rating", "text", "choice"]
    prompt: PromptText
    skill: str | None = None
    options: Annotated[list[ButtonText], Field(min_length=2, max_length=10)] | None = None
    options_from: Literal["focus_skills"] | None = None
    help: bool = False
    starr: bool = False
    optional: bool = False
    max_length: Annotated[int, Field(ge=1, le=4000)] = 2000


class Week(_Frozen):
    """A week of the plan. In ``weeks``, a field left out is taken from ``default_week``."""

    expectations: ExpectationsText | None = None
    focus_skills: Annotated[list[str], Field(min_length=1, max_length=4)] | None = None
    rate_focus_skills: bool | None = None
    questions: list[Question] | None = None


class ResolvedOption(_Frozen):
    """A button of a choice question: its label, its stable value, and the skill it names."""

    label: str
    value: str
    skill: str | None = None


class ResolvedQuestion(_Frozen):
    """A question ready to send: ratings generated, options concrete, hint filled in."""

    key: str
    kind: Literal["rating", "text", "choice"]
    prompt: str
    skill: str | None = None
    options: list[ResolvedOption] = []
    help: bool = False
    starr: bool = False
    hint: str | None = None
    optional: bool = False
    max_length: int | None = None

    def option(self, value: str) -> ResolvedOption | None:
        """The option with button value ``value``, if any."""
        return next((option for option in self.options if option.value == value), None)

    def low_skill(self, answer: int | str) -> str | None:
        """The skill that ``answer`` marks as low (a rating ≤ 2, or a skill named for help)."""
        if self.kind == "rating" and isinstance(answer, int) and answer <= LOW_RATING:
            return self.skill
        if self.help and isinstance(answer, str):
            option = self.option(answer)
            return option.skill if option else None
        return None


class ResolvedWeek(_Frozen):
    """Everything the bot sends in plan week ``number``, in one language."""

    number: int
    language: str = "nl"
    expectations: str
    focus_skills: list[Skill]
    questions: list[ResolvedQuestion]

    def question(self, key: str) -> ResolvedQuestion:
        """The question with ``key``; KeyError when this week has none."""
        for question in self.questions:
            if question.key == key:
                return question
        raise KeyError(key)


class Plan(_Frozen):
    """A cohort's plan. Build it with :func:`bot.plans.load_plan` to get errors with lines."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    version: Annotated[int, Field(ge=1)] = 1
    language: Literal["nl"] = "nl"
    skills: Annotated[list[Skill], Field(min_length=1)]
    holidays: list[str] = []
    default_week: Week
    weeks: dict[Annotated[int, Field(ge=1)], Week] = {}
    # Resolving a week builds pydantic models (about half the cost of opening a round for a
    # big class, and the gap snapshot asks for the same few weeks thousands of times). The
    # plan is immutable, so each plan keeps its own resolved weeks: no cache outlives it.
    _resolved: dict[tuple[int, str], ResolvedWeek] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _cross_references(self, info: ValidationInfo) -> Plan:
        if info.context and info.context.get(DEFER_CHECKS):
            return self
        raw = self.model_dump(exclude_unset=True)
        issues = check_plan(raw)
        if issues:
            lines = [issue_message(i.loc, i.code, i.ctx, raw, "nl") for i in issues]
            message = text("invalid_plan", messages="\n".join(lines))
            raise PydanticCustomError("plan_invalid", "{messages}", {"messages": message})
        return self

    def __eq__(self, other: object) -> bool:
        """Equal by content: the resolved weeks a plan has kept are not part of it."""
        if not isinstance(other, Plan):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = _Frozen.__hash__

    @property
    def last_week(self) -> int:
        """The highest week number listed in ``weeks`` (0 when none are listed)."""
        return max(self.weeks, default=0)

    def skill(self, key: str) -> Skill:
        """The skill with ``key``; KeyError when the plan has none."""
        for skill in self.skills:
            if skill.key == key:
                return skill
        raise KeyError(key)

    def week(self, number: int, lang: str = "nl") -> ResolvedWeek:
        """Plan week ``number`` (≥ 1) in ``lang``, from ``weeks`` or else ``default_week``."""
        if number < 1:
            raise ValueError(f"plan week numbers start at 1, not {number}")
        lang = "en" if lang == "en" else "nl"
        # `self._resolved` goes through pydantic's __getattr__ (3 µs, most of this call; the
        # gap check asks thousands of times per check): the private attributes' dict is a slot
        kept = self.__pydantic_private__["_resolved"] if self.__pydantic_private__ else {}
        resolved = kept.get((number, lang))
        if resolved is None:
            resolved = kept[(number, lang)] = _resolve(self, number, lang)
        return resolved

    def missing_translations(self) -> list[str]:
        """Where a student-facing text has no English version (empty when fully bilingual)."""
        return [where for where, value in student_texts(self) if not LocalText.has_english(value)]

    def is_holiday(self, d: date) -> bool:
        """Whether ``d`` falls in one of the plan's holiday weeks."""
        return calendar.iso_week(d) in self._holiday_weeks()

    def teaching_week(self, start: date, d: date) -> int | None:
        """Plan week of date ``d`` for a cohort started on ``start``; None in holidays/before."""
        return calendar.teaching_week(self._holiday_weeks(), start, d)

    def calendar_week_start(self, start: date, number: int) -> date:
        """The Monday of plan week ``number`` for a cohort started on ``start``."""
        return calendar.calendar_week_start(self._holiday_weeks(), start, number)

    def _holiday_weeks(self) -> frozenset[calendar.IsoWeek]:
        return calendar.holiday_weeks(self.holidays)


def _field(plan: Plan, number: int, name: str) -> Any:
    week = plan.weeks.get(number)
    value = getattr(week, name) if week is not None else None
    return value if value is not None else getattr(plan.default_week, name)


def _resolve(plan: Plan, number: int, lang: str) -> ResolvedWeek:
    focus = [plan.skill(key).in_language(lang) for key in _field(plan, number, "focus_skills")]
    rate = _field(plan, number, "rate_focus_skills")
    questions = [_rating(skill, lang) for skill in focus] if rate is not False else []
    questions += [_question(q, focus, lang) for q in _field(plan, number, "questions") or []]
    return ResolvedWeek(
        number=number,
        language=lang,
        expectations=LocalText.pick(_field(plan, number, "expectations"), lang),
        focus_skills=focus,
        questions=questions,
    )


def _rating(skill: Skill, lang: str) -> ResolvedQuestion:
    # The short name, not the work process's formal title: a 17-year-old reads it at a glance.
    prompt = t("question.rating_prompt", lang, skill=skill.label)
    return ResolvedQuestion(
        key=rating_key(skill.key), kind="rating", prompt=prompt, skill=skill.key
    )


def _question(question: Question, focus: list[Skill], lang: str) -> ResolvedQuestion:
    return ResolvedQuestion(
        key=question.key,
        kind=question.kind,
        prompt=LocalText.pick(question.prompt, lang),
        skill=question.skill,
        options=_options(question, focus, lang),
        help=question.help,
        starr=question.starr,
        hint=t("question.starr_hint", lang) if question.starr else None,
        optional=question.optional,
        max_length=question.max_length if question.kind == "text" else None,
    )


def _options(question: Question, focus: list[Skill], lang: str) -> list[ResolvedOption]:
    if question.options_from == "focus_skills":
        options = [ResolvedOption(label=s.label, value=s.key, skill=s.key) for s in focus]
        none = t("question.none_option", lang)
        return [*options, ResolvedOption(label=none, value=NONE_OPTION_VALUE)]
    # The button value comes from the Dutch label, so answers stay comparable across languages.
    return [
        ResolvedOption(label=LocalText.pick(label, lang), value=option_value(label, index))
        for index, label in enumerate(question.options or [])
    ]


def student_texts(plan: Plan) -> list[tuple[str, str]]:
    """Every student-facing text of the plan with where it is, for the translation check."""
    found: list[tuple[str, str]] = []
    for skill in plan.skills:
        found += [(f"skill {skill.key}: title", skill.title)]
        found += [(f"skill {skill.key}: short", skill.short)] if skill.short else []
    weeks = [("default_week", plan.default_week)]
    weeks += [(f"week {n}", w) for n, w in sorted(plan.weeks.items())]
    for where, week in weeks:
        if week.expectations:
            found.append((f"{where}: expectations", week.expectations))
        for question in week.questions or []:
            found.append((f"{where}, {question.key}: prompt", question.prompt))
            found += [(f"{where}, {question.key}: options", o) for o in question.options or []]
    return found
