"""Gap rules, shared part: the answers the rules read, their settings, the findings they give,
and the per-ask primitives and answer index every rule is built on.

Pure data and functions, no I/O. ``bot.gaps.rules`` re-exports what callers use; the rules
themselves live in ``bot.gaps.evidence`` (student and class gaps), ``bot.gaps.two_views``
(blind spots, stricter for herself), ``bot.gaps.timing`` (silence and decline) and
``bot.gaps.rules`` (all rules together, resolution). The index (:class:`AnswerIndex`,
:func:`index_answers`) and :func:`trailing_run` are public here for the rule modules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["student_gap", "class_gap", "blind_spot", "silence", "decline"]
KIND_ORDER: dict[str, int] = {
    "class_gap": 0,
    "student_gap": 1,
    "blind_spot": 2,
    "decline": 3,
    "silence": 4,
}
OBSERVATION_LEVELS = ("nooit", "oefenen", "voldoende", "goed")  # level 0..3


class RatingAnswer(NamedTuple):
    """A 1–5 self-rating of one student on one skill in the reflection of ``week``."""

    student_id: int
    week: int
    skill: str
    rating: int


class HelpRequest(NamedTuple):
    """The student named ``skill`` under "where do you want help" in ``week``."""

    student_id: int
    week: int
    skill: str


class StudentWords(NamedTuple):
    """Free-text answers of one reflection: shown as evidence, never scored."""

    student_id: int
    week: int
    text: str


class WorkplaceObservation(NamedTuple):
    """A werkbegeleider's observation of one student on one skill in the week ``week``.

    ``level``: 0 nooit, 1 oefenen, 2 voldoende, 3 goed. "Niet gezien" is no evidence either way
    and never becomes an observation here. ``observer_id`` is the werkbegeleider's member id.
    """

    student_id: int
    week: int
    skill: str
    level: int
    observer_id: int


@dataclass(frozen=True)
class ReflectionRound:
    """A closed (or current) round: the skills it asked, who was enrolled, who answered."""

    week: int
    skills: tuple[str, ...]
    enrolled: frozenset[int]
    respondents: frozenset[int]


@dataclass(frozen=True)
class CohortAnswers:
    """Everything the rules look at for one cohort."""

    rounds: tuple[ReflectionRound, ...]
    ratings: tuple[RatingAnswer, ...]
    helps: tuple[HelpRequest, ...] = ()
    words: tuple[StudentWords, ...] = ()
    observations: tuple[WorkplaceObservation, ...] = ()  # the workplace's view, where linked


class GapSettings(BaseModel):
    """Per-cohort rule settings; the defaults are the improved (``"evidence"``) rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["evidence", "spec"] = "evidence"
    # The starting rules' parameters (mode "spec", docs/gap-rules.md; low_max_rating and
    # class_min_students in both)
    student_low_needed: Annotated[int, Field(ge=1)] = 2
    student_window: Annotated[int, Field(ge=1)] = 3
    class_share: Annotated[float, Field(gt=0, le=1)] = 0.30
    class_min_students: Annotated[int, Field(ge=1)] = 3
    class_low_needed: Annotated[int, Field(ge=1)] = 2
    class_window: Annotated[int, Field(ge=1)] = 3
    silence_rounds: Annotated[int, Field(ge=1)] = 2
    decline_delta: Annotated[float, Field(gt=0)] = 1.0
    decline_window: Annotated[int, Field(ge=1)] = 3
    low_max_rating: Annotated[int, Field(ge=1, le=4)] = 2
    # Evidence rules. Points per rating 1..5 are about 1.3 × the log-likelihood ratio of
    # "true level 2" against "true level 3" at σ = 0.8, rounded so a mentor can add them up.
    rating_points: tuple[int, int, int, int, int] = (3, 1, -1, -3, -5)
    help_points: int = 2
    evidence_threshold: Annotated[int, Field(ge=1)] = 5
    evidence_window: Annotated[int, Field(ge=1)] = 4
    evidence_min_asks: Annotated[int, Field(ge=1)] = 2  # one bad week is no signal
    # The workplace's view (evidence mode): points per observation nooit, oefenen, voldoende,
    # goed, on the same scale as rating_points (docs/gap-rules.md "Two views").
    observation_points: tuple[int, int, int, int] = (5, 3, -3, -5)
    # Blinde vlek: the student rates a skill at least blind_spot_min_rating while the workplace
    # says at most blind_spot_max_level (oefenen), in blind_spot_needed of the last
    # blind_spot_window weeks that had both views. The reverse (strenger voor zichzelf) uses
    # the same counts with low_max_rating and voldoende.
    blind_spot_min_rating: Annotated[int, Field(ge=2, le=5)] = 4
    blind_spot_max_level: Annotated[int, Field(ge=0, le=2)] = 1
    blind_spot_needed: Annotated[int, Field(ge=1)] = 2
    blind_spot_window: Annotated[int, Field(ge=1)] = 4
    blind_spot_threshold: Annotated[int, Field(ge=1)] = 9  # the workplace's points, same window
    resolve_ok_asks: Annotated[int, Field(ge=1)] = 2
    class_mean_max: float = 2.65
    class_mean_asks: Annotated[int, Field(ge=1)] = 2
    fold_into_class: bool = True
    silence_max_chance: Annotated[float, Field(gt=0, lt=1)] = 0.001
    silence_prior_rate: Annotated[float, Field(gt=0, lt=1)] = 0.15
    silence_prior_rounds: Annotated[int, Field(ge=1)] = 10  # >= 1: the rate stays < 1
    # a missed round is a fact, not noise: never more than this many in a row
    silence_max_rounds: Annotated[int, Field(ge=1)] = 3
    decline_recent_rounds: Annotated[int, Field(ge=1)] = 8
    decline_baseline_rounds: Annotated[int, Field(ge=1)] = 16
    decline_paired_delta: Annotated[float, Field(gt=0)] = 0.8

    @classmethod
    def spec_baseline(cls) -> GapSettings:
        """The starting rules (docs/gap-rules.md), unchanged: for comparison, or a cohort
        that wants them."""
        return cls(mode="spec", fold_into_class=False)


@dataclass(frozen=True)
class Evidence:
    """One fact behind a finding: a rating, a missed round, the student's words, a figure."""

    week: int
    student_id: int | None
    skill: str | None
    rating: int | None
    text: str | None
    note: str | None
    observed: int | None = None  # the workplace's view that week (0 nooit … 3 goed)


@dataclass(frozen=True)
class Finding:
    """A gap as the rules see it now; ``fingerprint`` identifies it across weeks."""

    kind: Kind
    student_id: int | None
    skill: str | None
    weeks: tuple[int, ...]
    evidence: tuple[Evidence, ...]
    fingerprint: str


def fingerprint_of(kind: str, student_id: int | None, skill: str | None) -> str:
    """Stable identity of a gap: ``kind:student:skill`` with ``-`` for an absent part."""
    return f"{kind}:{'-' if student_id is None else student_id}:{skill or '-'}"


def parse_fingerprint(fingerprint: str) -> tuple[str, int | None, str | None]:
    """Inverse of :func:`fingerprint_of` (a skill key may itself contain ``:``)."""
    kind, student, skill = fingerprint.split(":", 2)
    return kind, None if student == "-" else int(student), None if skill == "-" else skill


class Ask(NamedTuple):
    """One week's evidence on a skill of a student: the student's rating and/or help request,
    and the workplace's observation (0 nooit … 3 goed) where one was made."""

    week: int
    rating: int | None
    help: bool
    observed: int | None = None


class AnswerIndex:
    """The answers regrouped once, so that each rule is a linear scan. Only `rounds` and
    `ask_at` are built at once; the other groupings when a rule first reads them (the class
    rule reads those two only, and the per-answer check runs it on every changed skill)."""

    def __init__(self, data: CohortAnswers) -> None:
        self._data = data
        self.rounds = sorted(data.rounds, key=lambda r: r.week)
        rated: dict[tuple[int, str, int], int] = {}
        for r in data.ratings:
            key = (r.student_id, r.skill, r.week)
            # Two ratings of one ask keep the lowest: independent of their order, and a
            # second rating can never hide a low one.
            if r.rating < rated.get(key, r.rating + 1):
                rated[key] = r.rating
        helps = {(h.student_id, h.skill, h.week) for h in data.helps}
        self.ask_at = {k: Ask(k[2], v, k in helps) for k, v in rated.items()}
        self.ask_at.update({k: Ask(k[2], None, True) for k in helps if k not in rated})

    @classmethod
    def extending(cls, base: AnswerIndex, data: CohortAnswers, later: CohortAnswers) -> AnswerIndex:
        """The index of `data`: `base`'s answers, then `later`'s, every week of `later` after
        every week of base's (`first_week`; the caller checks). Base's groupings (built once,
        kept by the caller: a student's closed rounds) with later's after them, instead of all
        of them regrouped on every check (tests/gaps/test_check_properties.py)."""
        part = cls(later)
        idx = cls.__new__(cls)
        idx._data = data
        idx.rounds = sorted(data.rounds, key=lambda r: r.week)
        idx.ask_at = {**base.ask_at, **part.ask_at}
        nested: dict[int, dict[int, list[tuple[str, int]]]] = defaultdict(lambda: defaultdict(list))
        for grouped in (base.by_student_week, part.by_student_week):
            for sid, weeks in grouped.items():
                nested[sid].update(weeks)  # no week in both
        vars(idx).update(  # what the cached properties would build, built already
            asks=_after({}, base.asks, part.asks),
            both=_after({}, base.both, part.both),
            words=_after(defaultdict(list), base.words, part.words),
            by_student_week=nested,
        )
        return idx

    @cached_property
    def asks(self) -> dict[tuple[int, str], list[Ask]]:
        """Per student and skill, one ask a week: by week."""
        grouped: dict[tuple[int, str], list[Ask]] = defaultdict(list)
        for (sid, skill, _week), ask in self.ask_at.items():
            grouped[(sid, skill)].append(ask)
        return {k: sorted(v) for k, v in grouped.items()}

    @cached_property
    def by_student_week(self) -> dict[int, dict[int, list[tuple[str, int]]]]:
        """Per student and week, the ratings by skill (sorted: float sums in one fixed order,
        whatever the input order)."""
        out: dict[int, dict[int, list[tuple[str, int]]]] = defaultdict(lambda: defaultdict(list))
        for (sid, skill, week), ask in self.ask_at.items():
            if ask.rating is not None:
                out[sid][week].append((skill, ask.rating))
        for weeks in out.values():
            for answers in weeks.values():
                answers.sort()
        return out

    @cached_property
    def both(self) -> dict[tuple[int, str], list[Ask]]:
        return _with_observations(self.ask_at, self._data.observations)

    @cached_property
    def words(self) -> dict[tuple[int, int], list[str]]:
        words: dict[tuple[int, int], list[str]] = defaultdict(list)
        for w in sorted(self._data.words, key=lambda w: (w.student_id, w.week, w.text)):
            words[(w.student_id, w.week)].append(w.text)
        return words


def _after(out: dict[Any, list[Any]], earlier: dict[Any, list[Any]], later: dict[Any, list[Any]]
           ) -> dict[Any, list[Any]]:  # fmt: skip
    """`out` with each key's list of `earlier` followed by its list of `later` (copies)."""
    for key, items in earlier.items():
        out[key] = list(items)
    for key, items in later.items():
        out[key] = out[key] + items if key in out else list(items)
    return out


def _weeks(data: CohortAnswers) -> Iterator[int]:
    for part in (data.ratings, data.helps, data.words, data.observations):
        yield from (x.week for x in part)


def first_week(data: CohortAnswers) -> int | None:
    """The first week of any answer or observation in `data` (None: none)."""
    return min(_weeks(data), default=None)


def last_week(data: CohortAnswers) -> int | None:
    """The last week of any answer or observation in `data` (None: none)."""
    return max(_weeks(data), default=None)


def _with_observations(
    ask_at: dict[tuple[int, str, int], Ask], observations: Iterable[WorkplaceObservation]
) -> dict[tuple[int, str], list[Ask]]:
    """Both views per student and skill, one entry a week, oldest first: the student's ask
    with the workplace's observation of that week, or an observation alone (a week the
    student did not answer is still a week the workplace saw her work)."""
    seen: dict[tuple[int, str, int], int] = {}
    for o in observations:
        key = (o.student_id, o.skill, o.week)
        # two werkbegeleiders in one week: the lower view counts, whatever the order
        if key not in seen or o.level < seen[key]:
            seen[key] = o.level
    merged = dict(ask_at)
    for key, level in seen.items():
        ask = merged.get(key)
        # (a NamedTuple's _replace costs four times the constructor)
        merged[key] = Ask(key[2], None, False, level) if ask is None else Ask(*ask[:3], level)
    grouped: dict[tuple[int, str], list[Ask]] = defaultdict(list)
    for (sid, skill, _week), ask in merged.items():
        grouped[(sid, skill)].append(ask)
    return {k: sorted(v, key=lambda a: a.week) for k, v in grouped.items()}


_last: tuple[CohortAnswers, AnswerIndex] | None = None


def remember_index(data: CohortAnswers, idx: AnswerIndex) -> None:
    """Make `idx` the index `index_answers` gives for this very snapshot object (one built
    by `AnswerIndex.extending`)."""
    global _last
    _last = (data, idx)


def index_answers(data: CohortAnswers) -> AnswerIndex:
    """Index ``data``, reusing the index of the very same (immutable) snapshot object:
    evaluate() and ok_streaks() are normally called one after the other on one snapshot.
    The cache entry is read and replaced as a whole, so threads cannot mix two entries."""
    global _last
    entry = _last
    if entry is not None and entry[0] is data:
        return entry[1]
    idx = AnswerIndex(data)
    _last = (data, idx)
    return idx


def is_low(ask: Ask, settings: GapSettings) -> bool:
    """A low answer: a rating of at most ``low_max_rating``, or a request for help."""
    return ask.help or (ask.rating is not None and ask.rating <= settings.low_max_rating)


def is_ok(ask: Ask, settings: GapSettings) -> bool:
    """An ask that counts towards resolution: rated above low, no request for help, and the
    workplace (where it looked) saw at least voldoende. An observation alone can be OK."""
    if is_low(ask, settings) or (ask.observed is not None and ask.observed < 2):
        return False
    return ask.rating is not None or ask.observed is not None


def ask_points(ask: Ask, settings: GapSettings) -> int:
    """Evidence points of one ask, both views added up (positive: towards a gap)."""
    points = settings.help_points if ask.help else 0
    if ask.rating is not None:
        points += settings.rating_points[min(max(ask.rating, 1), 5) - 1]
    if ask.observed is not None:
        points += settings.observation_points[min(max(ask.observed, 0), 3)]
    return points


def open_since(
    ok: list[bool], window: int, resolve: int, trigger: Callable[[int, int], bool]
) -> int | None:
    """The evidence rules' common shape, over one series of asks, oldest first.

    A gap is open when an ask that was not OK completed a window (its last ``window`` asks,
    ``lo:hi``) for which ``trigger`` holds, and no ``resolve`` OK asks in a row came after that
    ask. Returns the first index of the evidence, or None. Stated without a running state, the
    rule cannot depend on where an earlier alert happened to open, so adding a good answer
    can never open a gap (tests/gaps/test_properties.py).
    """
    run, after = 0, 0
    for i, fine in enumerate(ok):
        run = run + 1 if fine else 0
        if run >= resolve:
            after = i + 1  # a gap opened before this point is resolved
    for i in range(after, len(ok)):
        if not ok[i] and trigger(lo := max(0, i + 1 - window), i + 1):
            return lo
    return None


def trailing_run(flags: Iterable[bool]) -> int:
    """The length of the run of True at the end of ``flags``."""
    n = 0
    for flag in flags:
        n = n + 1 if flag else 0
    return n
