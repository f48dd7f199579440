"""Gap rules: pure functions from stored answers to findings with evidence (SPEC §5).

No I/O, no Telegram, no database: every finding is recomputed from a ``CohortAnswers``
snapshot, so any instance can decide alerts after a restart. Two rule sets share one
interface, chosen by ``GapSettings.mode``:

* ``"spec"``: the SPEC §5 starting rules (2 of the last 3 asks low, 30 % of the class, 2 silent
  rounds, a 1.0 drop of the mean); ``GapSettings.spec_baseline()``.
* ``"evidence"`` (default): rules that weigh evidence across asks so that noisy self-ratings do
  not trip alerts. docs/gap-rules.md has the reasoning and the measured quality.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["student_gap", "class_gap", "silence", "decline"]
KIND_ORDER: dict[str, int] = {"class_gap": 0, "student_gap": 1, "decline": 2, "silence": 3}


@dataclass(frozen=True)
class RatingAnswer:
    """A 1–5 self-rating of one student on one skill in the reflection of ``week``."""

    student_id: int
    week: int
    skill: str
    rating: int


@dataclass(frozen=True)
class HelpRequest:
    """The student named ``skill`` under "where do you want help" in ``week``."""

    student_id: int
    week: int
    skill: str


@dataclass(frozen=True)
class StudentWords:
    """Free-text answers of one reflection: shown as evidence, never scored."""

    student_id: int
    week: int
    text: str


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


class GapSettings(BaseModel):
    """Per-cohort rule settings; the defaults are the improved (``"evidence"``) rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["evidence", "spec"] = "evidence"
    # SPEC §5 parameters (mode "spec"; low_max_rating and class_min_students in both)
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
    resolve_ok_asks: Annotated[int, Field(ge=1)] = 2
    class_mean_max: float = 2.65
    class_mean_asks: Annotated[int, Field(ge=1)] = 2
    fold_into_class: bool = True
    silence_max_chance: Annotated[float, Field(gt=0, lt=1)] = 0.001
    silence_prior_rate: Annotated[float, Field(gt=0, lt=1)] = 0.15
    silence_prior_rounds: Annotated[int, Field(ge=1)] = 10  # >= 1: the rate stays < 1
    decline_recent_rounds: Annotated[int, Field(ge=1)] = 8
    decline_baseline_rounds: Annotated[int, Field(ge=1)] = 16
    decline_paired_delta: Annotated[float, Field(gt=0)] = 0.8

    @classmethod
    def spec_baseline(cls) -> GapSettings:
        """The SPEC §5 starting rules, unchanged (for comparison, or a cohort that wants them)."""
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
    """One answered ask of a skill to a student: a rating, a help request, or both."""

    week: int
    rating: int | None
    help: bool


class _Index:
    """The answers regrouped once, so that each rule is a linear scan."""

    def __init__(self, data: CohortAnswers) -> None:
        self.rounds = sorted(data.rounds, key=lambda r: r.week)
        rated: dict[tuple[int, str, int], int] = {}
        for r in data.ratings:
            key = (r.student_id, r.skill, r.week)
            # Two ratings of one ask keep the lowest: independent of their order, and a
            # second rating can never hide a low one.
            if key not in rated or r.rating < rated[key]:
                rated[key] = r.rating
        helps = {(h.student_id, h.skill, h.week) for h in data.helps}
        self.ask_at = {k: Ask(k[2], v, k in helps) for k, v in rated.items()}
        self.ask_at.update({k: Ask(k[2], None, True) for k in helps if k not in rated})
        grouped: dict[tuple[int, str], list[Ask]] = defaultdict(list)
        self.by_student_week: dict[int, dict[int, list[tuple[str, int]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for (sid, skill, week), ask in self.ask_at.items():
            grouped[(sid, skill)].append(ask)
            if ask.rating is not None:
                self.by_student_week[sid][week].append((skill, ask.rating))
        self.asks = {k: sorted(v) for k, v in grouped.items()}  # one ask a week: by week
        for weeks in self.by_student_week.values():
            for answers in weeks.values():
                answers.sort()  # float sums in one fixed order, whatever the input order
        self.words: dict[tuple[int, int], list[str]] = defaultdict(list)
        for w in sorted(data.words, key=lambda w: (w.student_id, w.week, w.text)):
            self.words[(w.student_id, w.week)].append(w.text)


_last: tuple[CohortAnswers, _Index] | None = None


def _index(data: CohortAnswers) -> _Index:
    """Index ``data``, reusing the index of the very same (immutable) snapshot object:
    evaluate() and ok_streaks() are normally called one after the other on one snapshot.
    The cache entry is read and replaced as a whole, so threads cannot mix two entries."""
    global _last
    entry = _last
    if entry is not None and entry[0] is data:
        return entry[1]
    idx = _Index(data)
    _last = (data, idx)
    return idx


def is_low(ask: Ask, settings: GapSettings) -> bool:
    """SPEC §5: a rating of at most ``low_max_rating``, or a request for help."""
    return ask.help or (ask.rating is not None and ask.rating <= settings.low_max_rating)


def is_ok(ask: Ask, settings: GapSettings) -> bool:
    """An ask that counts towards resolution: rated above low, and no request for help."""
    return ask.rating is not None and not is_low(ask, settings)


def ask_points(ask: Ask, settings: GapSettings) -> int:
    """Evidence points of one ask (positive: towards a gap)."""
    points = settings.help_points if ask.help else 0
    if ask.rating is not None:
        points += settings.rating_points[min(max(ask.rating, 1), 5) - 1]
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


# ----------------------------------------------------------------------------- student gaps


def scan_student(asks: list[Ask], settings: GapSettings) -> int | None:
    """Evidence rule for one student and skill: the points of the last ``evidence_window``
    asks reach ``evidence_threshold`` at an ask that was not OK; resolved by
    ``resolve_ok_asks`` OK asks in a row. Returns the first index of the evidence, or None."""
    points = [ask_points(a, settings) for a in asks]
    ok = [is_ok(a, settings) for a in asks]

    def trigger(lo: int, hi: int) -> bool:
        return sum(points[lo:hi]) >= settings.evidence_threshold

    return open_since(ok, settings.evidence_window, settings.resolve_ok_asks, trigger)


def _student_evidence(
    sid: int, skill: str, asks: list[Ask], idx: _Index, settings: GapSettings
) -> tuple[Evidence, ...]:
    """Ratings (with their points), help requests, and the student's words of low weeks."""
    out: list[Evidence] = []
    for a in asks:
        parts = ([f"rating {a.rating}"] if a.rating is not None else []) + (
            ["asked for help"] if a.help else []
        )
        note = ", ".join(parts)
        if settings.mode == "evidence":
            note += f" ({ask_points(a, settings):+d})"
        out.append(Evidence(a.week, sid, skill, a.rating, None, note))
        if is_low(a, settings):
            out += [Evidence(a.week, sid, None, None, t, "words") for t in idx.words[(sid, a.week)]]
    return tuple(out)


def _student_findings(idx: _Index, settings: GapSettings) -> list[Finding]:
    found: list[Finding] = []
    for (sid, skill), asks in sorted(idx.asks.items()):
        if settings.mode == "spec":
            window = asks[-settings.student_window :]
            hit = sum(is_low(a, settings) for a in window) >= settings.student_low_needed
        else:
            first = scan_student(asks, settings)
            hit = first is not None
            window = asks[first or 0 :][-8:]  # keep the message short: the latest 8 asks
        if hit:
            ev = _student_evidence(sid, skill, window, idx, settings)
            fp = fingerprint_of("student_gap", sid, skill)
            found.append(Finding("student_gap", sid, skill, tuple(a.week for a in window), ev, fp))
    return found


def find_student_gaps(data: CohortAnswers, settings: GapSettings) -> list[Finding]:
    """Recurring student gaps (before folding into class gaps, see :func:`evaluate`)."""
    return _student_findings(_index(data), settings)


# ----------------------------------------------------------------------------- class gaps


class ClassAsk(NamedTuple):
    """One round's answers on one skill by the whole class."""

    week: int
    ratings: tuple[int, ...]
    low_students: frozenset[int]
    respondents: int


def class_asks(idx: _Index, skill: str, settings: GapSettings) -> list[ClassAsk]:
    """The rounds that asked ``skill`` and heard enough students on it, oldest first: at least
    one answer (spec) or ``class_min_students`` ratings (evidence). A round nobody answered
    yet says nothing about the class."""
    out = []
    for rnd in (r for r in idx.rounds if skill in r.skills):
        got = [
            (sid, a)
            for sid in sorted(rnd.respondents)
            if (a := idx.ask_at.get((sid, skill, rnd.week))) is not None
        ]
        ratings = tuple(a.rating for _, a in got if a.rating is not None)
        low = frozenset(sid for sid, a in got if is_low(a, settings))
        spec = settings.mode == "spec"
        if (len(got) >= 1) if spec else (len(ratings) >= settings.class_min_students):
            out.append(ClassAsk(rnd.week, ratings, low, len(got)))
    return out


def class_ask_low(ask: ClassAsk, settings: GapSettings) -> bool:
    """Whether one round was low for the class on the skill."""
    if settings.mode == "spec":
        need = max(settings.class_min_students, settings.class_share * ask.respondents)
        return len(ask.low_students) >= need
    return statistics.fmean(ask.ratings) <= settings.class_mean_max


def scan_class(asks: list[ClassAsk], settings: GapSettings) -> int | None:
    """Class rule over the rounds asking one skill: the first index of the evidence, or None.

    spec: low in ``class_low_needed`` of the last ``class_window`` rounds.
    evidence: the pooled mean rating of the last ``class_mean_asks`` rounds is at most
    ``class_mean_max`` with at least ``class_min_students`` students low among them, at a
    round with a mean at most that; resolved by ``resolve_ok_asks`` rounds in a row above it.
    """
    s = settings
    if s.mode == "spec":
        window = asks[-s.class_window :]
        hit = sum(class_ask_low(a, s) for a in window) >= s.class_low_needed
        return len(asks) - len(window) if hit else None

    def trigger(lo: int, hi: int) -> bool:
        pooled = [r for a in asks[lo:hi] for r in a.ratings]
        low = frozenset().union(*(a.low_students for a in asks[lo:hi]))
        return (
            hi - lo >= s.class_mean_asks
            and statistics.fmean(pooled) <= s.class_mean_max
            and len(low) >= s.class_min_students
        )

    ok = [not class_ask_low(a, s) for a in asks]
    return open_since(ok, s.class_mean_asks, s.resolve_ok_asks, trigger)


def _class_findings(idx: _Index, settings: GapSettings) -> list[Finding]:
    found = []
    for skill in sorted({s for r in idx.rounds for s in r.skills}):
        asks = class_asks(idx, skill, settings)
        first = scan_class(asks, settings)
        if first is not None:
            window = asks[first:][-6:]
            ev = tuple(
                Evidence(a.week, None, skill, None, None, f"class mean {_mean(a.ratings)}, "
                         f"{len(a.low_students)} of {a.respondents} low")
                for a in window
            )  # fmt: skip
            fp = fingerprint_of("class_gap", None, skill)
            found.append(Finding("class_gap", None, skill, tuple(a.week for a in window), ev, fp))
    return found


def _mean(values: tuple[int, ...]) -> str:
    return f"{statistics.fmean(values):.2f}" if values else "-"


def find_class_gaps(data: CohortAnswers, settings: GapSettings) -> list[Finding]:
    """Recurring class gaps, without the folded student gaps (see :func:`evaluate`)."""
    return _class_findings(_index(data), settings)


# ----------------------------------------------------------------------------- silence


def silence_needed(answered: int, total: int, settings: GapSettings) -> int:
    """Unanswered rounds in a row that make a silence, given the record before them.

    spec: ``silence_rounds``. evidence: the fewest k >= ``silence_rounds`` for which a student
    who still takes part, missing rounds at her own rate m, misses k in a row with a chance
    m^k of at most ``silence_max_chance``. m is her record with a prior of
    ``silence_prior_rate`` over ``silence_prior_rounds`` rounds: a newcomer needs 4 rounds, a
    student who always answers 3, one who skips one round in three 5.
    """
    k = settings.silence_rounds
    if settings.mode == "spec":
        return k
    prior = settings.silence_prior_rounds
    rate = (total - answered + settings.silence_prior_rate * prior) / (total + prior)
    while rate**k > settings.silence_max_chance:
        k += 1
    return k


def _silence_findings(idx: _Index, settings: GapSettings) -> list[Finding]:
    found = []
    students = {sid for sid, _ in idx.asks}.union(*(r.enrolled for r in idx.rounds))
    for sid in sorted(students):
        mine = [r for r in idx.rounds if sid in r.enrolled]
        cut = len(mine) - _trailing(sid not in r.respondents for r in mine)
        before, missed = mine[:cut], [r.week for r in mine[cut:]]
        answered = sum(sid in r.respondents for r in before)
        if missed and len(missed) >= silence_needed(answered, len(before), settings):
            note = f"no answer (answered {answered} of {len(before)} rounds before)"
            ev = tuple(Evidence(w, sid, None, None, None, note) for w in missed)
            fp = fingerprint_of("silence", sid, None)
            found.append(Finding("silence", sid, None, tuple(missed), ev, fp))
    return found


def find_silences(data: CohortAnswers, settings: GapSettings) -> list[Finding]:
    """Students who left the last rounds unanswered (only the rounds passed in count)."""
    return _silence_findings(_index(data), settings)


# ----------------------------------------------------------------------------- decline


def _decline_at(idx: _Index, sid: int, n: int, s: GapSettings) -> tuple[list[int], str] | None:
    """Decline test on the student's first ``n`` answered rounds: (weeks, summary) or None.

    spec: the mean of the last ``decline_window`` rounds is at least ``decline_delta`` below
    the mean of the ``decline_window`` rounds before.
    evidence: each rating of the last ``decline_recent_rounds`` rounds is compared with the
    student's own mean on the same skill over up to ``decline_baseline_rounds`` rounds before;
    the mean difference is at least ``decline_paired_delta`` down. Pairing by skill takes the
    mix of skills of the weeks out of the comparison; the long windows average the noise.
    """
    per_week = idx.by_student_week.get(sid, {})
    weeks = sorted(per_week)[:n]
    recent, base_n = (s.decline_window, s.decline_window) if s.mode == "spec" else (
        s.decline_recent_rounds, s.decline_baseline_rounds
    )  # fmt: skip
    if len(weeks) < 2 * recent:
        return None
    new, old = weeks[-recent:], weeks[-recent - base_n : -recent]
    span = f"weeks {new[0]}-{new[-1]} against weeks {old[0]}-{old[-1]}"
    if s.mode == "spec":
        now = statistics.fmean(r for wk in new for _, r in per_week[wk])
        before = statistics.fmean(r for wk in old for _, r in per_week[wk])
        # round(): 4 - 3 must be a drop of exactly 1.0, not 0.999…
        hit = round(before - now, 9) >= s.decline_delta
        return (old + new, f"mean {now:.2f} against {before:.2f} ({span})") if hit else None
    base: dict[str, list[int]] = defaultdict(list)
    for wk in old:
        for skill, r in per_week[wk]:
            base[skill].append(r)
    diffs = [r - statistics.fmean(base[k]) for wk in new for k, r in per_week[wk] if k in base]
    if len(diffs) < recent or round(statistics.fmean(diffs), 9) > -s.decline_paired_delta:
        return None
    note = f"mean {statistics.fmean(diffs):+.2f} against own earlier ratings of the same skills"
    return old + new, f"{note} ({span})"


def _decline_findings(idx: _Index, settings: GapSettings) -> list[Finding]:
    found = []
    for sid, per_week in sorted(idx.by_student_week.items()):
        hit = _decline_at(idx, sid, len(per_week), settings)
        if hit:
            weeks, summary = hit
            ev = [Evidence(wk, sid, k, r, None, "rating") for wk in weeks for k, r in per_week[wk]]
            ev.append(Evidence(weeks[-1], sid, None, None, None, summary))
            fp = fingerprint_of("decline", sid, None)
            found.append(Finding("decline", sid, None, tuple(weeks), tuple(ev), fp))
    return found


def find_declines(data: CohortAnswers, settings: GapSettings) -> list[Finding]:
    """Students whose ratings dropped as a whole (all skills together)."""
    return _decline_findings(_index(data), settings)


# ----------------------------------------------------------------------------- all rules


def _fold(cls: Finding, students: list[Finding]) -> Finding:
    """The class finding with the student gaps of its skill in it: one alert, not 25."""
    extra = []
    for f in students:
        rated = [e for e in f.evidence if e.rating is not None] or list(f.evidence[-1:])
        note = f"student gap (ratings {','.join(str(e.rating) for e in rated if e.rating)})"
        extra.append(Evidence(rated[-1].week, f.student_id, f.skill, rated[-1].rating, None, note))
    return Finding(
        "class_gap", None, cls.skill, cls.weeks, cls.evidence + tuple(extra), cls.fingerprint
    )


def _sort_key(f: Finding) -> tuple[int, int, str]:
    return KIND_ORDER[f.kind], -1 if f.student_id is None else f.student_id, f.skill or ""


def evaluate(data: CohortAnswers, settings: GapSettings) -> list[Finding]:
    """All four rules, sorted by kind (class, student, decline, silence), student, skill."""
    idx = _index(data)
    classes = _class_findings(idx, settings)
    students = _student_findings(idx, settings)
    if settings.fold_into_class:
        class_skills = {c.skill for c in classes}
        classes = [_fold(c, [s for s in students if s.skill == c.skill]) for c in classes]
        students = [s for s in students if s.skill not in class_skills]
    found = classes + students + _decline_findings(idx, settings) + _silence_findings(idx, settings)
    return sorted(found, key=_sort_key)


def folded_students(finding: Finding) -> list[int]:
    """The students a class finding names as having their own gap on its skill."""
    if finding.kind != "class_gap":
        return []
    return sorted({e.student_id for e in finding.evidence if e.student_id is not None})


# ----------------------------------------------------------------------------- resolution


def ok_streak(fingerprint: str, data: CohortAnswers, settings: GapSettings) -> int:
    """How many of the latest relevant rounds in a row were *not* low for this gap.

    student_gap: asks of the skill the student answered with a rating above low and no request
    for help. class_gap: rounds asking the skill whose class figure was not low. silence:
    rounds the student answered. decline: answered rounds in which the decline test no longer
    holds. The lifecycle resolves a gap when the streak is long enough.
    """
    return ok_streaks([fingerprint], data, settings)[fingerprint]


def ok_streaks(
    fingerprints: Iterable[str], data: CohortAnswers, settings: GapSettings
) -> dict[str, int]:
    """:func:`ok_streak` for many fingerprints, indexing the answers once."""
    idx = _index(data)
    return {fp: _streak(fp, idx, settings) for fp in fingerprints}


def _trailing(flags: Iterable[bool]) -> int:
    """The length of the run of True at the end of ``flags``."""
    n = 0
    for flag in flags:
        n = n + 1 if flag else 0
    return n


def _streak(fingerprint: str, idx: _Index, settings: GapSettings) -> int:
    kind, sid, skill = parse_fingerprint(fingerprint)
    if kind == "student_gap" and sid is not None and skill is not None:
        return _trailing(is_ok(a, settings) for a in idx.asks.get((sid, skill), []))
    if kind == "class_gap" and skill is not None:
        return _trailing(not class_ask_low(a, settings) for a in class_asks(idx, skill, settings))
    if kind == "silence" and sid is not None:
        return _trailing(sid in r.respondents for r in idx.rounds if sid in r.enrolled)
    if kind == "decline" and sid is not None:
        total, n = len(idx.by_student_week.get(sid, {})), 0
        while n < total and _decline_at(idx, sid, total - n, settings) is None:
            n += 1
        return n
    raise ValueError(f"unknown fingerprint {fingerprint!r}")
