"""Gap rules: pure functions from stored answers to findings with evidence.

No I/O, no Telegram, no database: every finding is recomputed from a ``CohortAnswers``
snapshot, so any instance can decide alerts after a restart (SPEC §5).

Two rule sets share one interface, chosen by ``GapSettings.mode``:

* ``"spec"`` – the SPEC §5 starting rules (2 of the last 3 asks low, 30 % of the class, 2
  silent rounds, a 1.0 drop of the mean). Reachable with ``GapSettings.spec_baseline()``.
* ``"evidence"`` (default) – rules that weigh evidence across asks so that noisy self-ratings
  do not trip alerts; see docs/gap-rules.md for the reasoning and the measured quality.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
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
    """Free-text answers of one reflection; shown as evidence, never scored."""

    student_id: int
    week: int
    text: str


@dataclass(frozen=True)
class ReflectionRound:
    """A closed (or current) reflection round: what it asked, who was enrolled, who answered."""

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
    """Per-cohort rule settings. The defaults are the improved (``"evidence"``) rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["evidence", "spec"] = "evidence"
    # --- SPEC §5 parameters (used by mode "spec"; low_max_rating by both) ---
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
    # --- improved rules (mode "evidence") ---
    # Points per rating 1..5: about 1.3 × the log-likelihood ratio of "true level 2" against
    # "true level 3" with σ = 0.8, rounded so a mentor can add them up by hand.
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
    silence_prior_rounds: Annotated[int, Field(ge=0)] = 10
    decline_recent_rounds: Annotated[int, Field(ge=1)] = 8
    decline_baseline_rounds: Annotated[int, Field(ge=1)] = 16
    decline_paired_delta: Annotated[float, Field(gt=0)] = 0.8

    @classmethod
    def spec_baseline(cls) -> GapSettings:
        """The SPEC §5 starting rules, unchanged (for comparison and for cohorts that want them)."""
        return cls(mode="spec", fold_into_class=False)


@dataclass(frozen=True)
class Evidence:
    """One fact behind a finding: a rating, a missed round, the student's words, a class figure."""

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
    student = "-" if student_id is None else str(student_id)
    return f"{kind}:{student}:{skill or '-'}"


def parse_fingerprint(fingerprint: str) -> tuple[str, int | None, str | None]:
    """Inverse of :func:`fingerprint_of` (the skill may itself contain ``:``)."""
    kind, student, skill = fingerprint.split(":", 2)
    return kind, None if student == "-" else int(student), None if skill == "-" else skill


# ----------------------------------------------------------------------------- indexing


class Ask(NamedTuple):
    """One answered ask of a skill to a student: a rating, a help request, or both."""

    week: int
    rating: int | None
    help: bool


class _Index:
    """The answers regrouped once, so each rule is a linear scan."""

    def __init__(self, data: CohortAnswers) -> None:
        self.rounds = sorted(data.rounds, key=lambda r: r.week)
        rated: dict[tuple[int, str, int], int] = {}
        for r in data.ratings:
            key = (r.student_id, r.skill, r.week)
            old = rated.get(key)
            # A duplicate in one week keeps the lowest rating: independent of the order, and
            # a second rating can never hide a low one.
            if old is None or r.rating < old:
                rated[key] = r.rating
        helps = {(h.student_id, h.skill, h.week) for h in data.helps}
        self.ask_at = {k: Ask(k[2], v, k in helps) for k, v in rated.items()}
        self.ask_at.update({k: Ask(k[2], None, True) for k in helps if k not in rated})
        grouped: dict[tuple[int, str], list[Ask]] = defaultdict(list)
        by_week: dict[int, dict[int, list[tuple[str, int]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for (sid, skill, week), ask in self.ask_at.items():
            grouped[(sid, skill)].append(ask)
            if ask.rating is not None:
                by_week[sid][week].append((skill, ask.rating))
        self.asks = {k: sorted(v) for k, v in grouped.items()}  # one ask per week: by week
        for weeks in by_week.values():
            for answers in weeks.values():
                answers.sort()  # float sums in a fixed order, whatever the input order
        self.by_student_week = by_week
        self.words: dict[tuple[int, int], list[str]] = defaultdict(list)
        for w in sorted(data.words, key=lambda w: (w.student_id, w.week, w.text)):
            self.words[(w.student_id, w.week)].append(w.text)

    def students(self) -> list[int]:
        """Every student seen in a round or an answer, sorted."""
        seen = {sid for sid, _ in self.asks}
        for r in self.rounds:
            seen |= r.enrolled | r.respondents
        return sorted(seen)

    def skills(self) -> list[str]:
        """Every skill that a round asked, sorted."""
        return sorted({s for r in self.rounds for s in r.skills})


_LAST: list[tuple[CohortAnswers, _Index]] = []


def _index(data: CohortAnswers) -> _Index:
    """Index ``data``, reusing the last index when called again with the very same snapshot.

    evaluate() and ok_streaks() are normally called one after the other on one snapshot;
    the snapshot is immutable, so the reuse cannot change a result.
    """
    last = _LAST[0] if _LAST else None
    if last is not None and last[0] is data:
        return last[1]
    idx = _Index(data)
    _LAST[:] = [(data, idx)]
    return idx


def is_low(ask: Ask, settings: GapSettings) -> bool:
    """SPEC §5: a rating of at most ``low_max_rating`` or a request for help is low."""
    return ask.help or (ask.rating is not None and ask.rating <= settings.low_max_rating)


def is_ok(ask: Ask, settings: GapSettings) -> bool:
    """An ask that counts towards resolution: rated above low and no request for help."""
    return ask.rating is not None and not is_low(ask, settings)


def ask_points(ask: Ask, settings: GapSettings) -> int:
    """Evidence points of one ask (positive = towards a gap)."""
    points = settings.help_points if ask.help else 0
    if ask.rating is not None:
        points += settings.rating_points[min(max(ask.rating, 1), 5) - 1]
    return points


# ----------------------------------------------------------------------------- student gaps


def scan_student(asks: list[Ask], settings: GapSettings) -> tuple[bool, int]:
    """Run the evidence rule over one student's asks of one skill, oldest first.

    Returns (active, index of the first ask of the evidence). A gap becomes active when the
    points of the last ``evidence_window`` asks reach ``evidence_threshold``; it stays active
    until ``resolve_ok_asks`` OK asks in a row, and only asks after that resolution count again
    (so the same old low ratings cannot re-open it at once).
    """
    points = [ask_points(a, settings) for a in asks]
    active, start, first, ok_run = False, 0, 0, 0
    for i, ask in enumerate(asks):
        ok_run = ok_run + 1 if is_ok(ask, settings) else 0
        if active:
            if ok_run >= settings.resolve_ok_asks:
                active, start, ok_run = False, i + 1, 0
            continue
        lo = max(start, i + 1 - settings.evidence_window)
        if sum(points[lo : i + 1]) >= settings.evidence_threshold:
            active, first, ok_run = True, lo, 0
    return active, first


def _student_evidence(
    sid: int, skill: str, asks: list[Ask], idx: _Index, settings: GapSettings
) -> tuple[Evidence, ...]:
    """Ratings (with their points), help requests and the student's words of those weeks."""
    out: list[Evidence] = []
    for a in asks:
        parts = [f"rating {a.rating}"] if a.rating is not None else []
        if a.help:
            parts.append("asked for help")
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
            hit, first = scan_student(asks, settings)
            window = asks[first:][-8:]  # keep the message short: the latest 8 asks at most
        if hit:
            ev = _student_evidence(sid, skill, window, idx, settings)
            weeks = tuple(a.week for a in window)
            fp = fingerprint_of("student_gap", sid, skill)
            found.append(Finding("student_gap", sid, skill, weeks, ev, fp))
    return found


def find_student_gaps(data: CohortAnswers, settings: GapSettings) -> list[Finding]:
    """Recurring student gaps (before folding into class gaps; see :func:`evaluate`)."""
    return _student_findings(_index(data), settings)


# ----------------------------------------------------------------------------- class gaps


class ClassAsk(NamedTuple):
    """One round's answers on one skill by the whole class."""

    week: int
    ratings: tuple[int, ...]
    low_students: frozenset[int]
    respondents: int


def class_asks(idx: _Index, skill: str, settings: GapSettings) -> list[ClassAsk]:
    """The rounds that asked ``skill``, with the class's answers on it, oldest first."""
    out = []
    for rnd in idx.rounds:
        if skill not in rnd.skills:
            continue
        ratings, low, n = [], set(), 0
        for sid in sorted(rnd.respondents):
            ask = idx.ask_at.get((sid, skill, rnd.week))
            if ask is None:
                continue
            n += 1
            if ask.rating is not None:
                ratings.append(ask.rating)
            if is_low(ask, settings):
                low.add(sid)
        out.append(ClassAsk(rnd.week, tuple(ratings), frozenset(low), n))
    return out


def class_ask_low(ask: ClassAsk, settings: GapSettings) -> bool:
    """Whether one round was low for the class on the skill."""
    if settings.mode == "spec":
        need = max(settings.class_min_students, settings.class_share * ask.respondents)
        return ask.respondents > 0 and len(ask.low_students) >= need
    if len(ask.ratings) < settings.class_min_students:
        return False
    return sum(ask.ratings) / len(ask.ratings) <= settings.class_mean_max


def scan_class(asks: list[ClassAsk], settings: GapSettings) -> tuple[bool, int]:
    """Class rule over the rounds asking one skill; returns (active, first evidence index).

    spec: low in ``class_low_needed`` of the last ``class_window`` rounds.
    evidence: the pooled mean rating of the last ``class_mean_asks`` rounds is at most
    ``class_mean_max`` with at least ``class_min_students`` students low; active until
    ``resolve_ok_asks`` rounds in a row with a class mean above it.
    """
    if settings.mode == "spec":
        window = asks[-settings.class_window :]
        hit = sum(class_ask_low(a, settings) for a in window) >= settings.class_low_needed
        return hit, len(asks) - len(window)
    active, start, first, ok_run = False, 0, 0, 0
    for i, ask in enumerate(asks):
        counted = len(ask.ratings) >= settings.class_min_students
        ok_run = ok_run + 1 if counted and not class_ask_low(ask, settings) else 0
        if active:
            if ok_run >= settings.resolve_ok_asks:
                active, start, ok_run = False, i + 1, 0
            continue
        lo = max(start, i + 1 - settings.class_mean_asks)
        pooled = [r for a in asks[lo : i + 1] for r in a.ratings]
        low = frozenset().union(*(a.low_students for a in asks[lo : i + 1]))
        if (
            i + 1 - lo >= settings.class_mean_asks
            and len(pooled) >= settings.class_min_students
            and sum(pooled) / len(pooled) <= settings.class_mean_max
            and len(low) >= settings.class_min_students
        ):
            active, first, ok_run = True, lo, 0
    return active, first


def _class_evidence(skill: str, asks: list[ClassAsk]) -> list[Evidence]:
    out = []
    for a in asks:
        mean = f"{sum(a.ratings) / len(a.ratings):.2f}" if a.ratings else "-"
        note = f"class mean {mean}, {len(a.low_students)} of {a.respondents} low"
        out.append(Evidence(a.week, None, skill, None, None, note))
    return out


def _class_findings(idx: _Index, settings: GapSettings) -> list[Finding]:
    found = []
    for skill in idx.skills():
        asks = class_asks(idx, skill, settings)
        hit, first = scan_class(asks, settings)
        if hit:
            window = asks[first:][-6:]
            ev = tuple(_class_evidence(skill, window))
            weeks = tuple(a.week for a in window)
            fp = fingerprint_of("class_gap", None, skill)
            found.append(Finding("class_gap", None, skill, weeks, ev, fp))
    return found


def find_class_gaps(data: CohortAnswers, settings: GapSettings) -> list[Finding]:
    """Recurring class gaps, without the folded student gaps (see :func:`evaluate`)."""
    return _class_findings(_index(data), settings)


# ----------------------------------------------------------------------------- silence


def _silence_state(idx: _Index, sid: int) -> tuple[list[int], int, int]:
    """(weeks of the trailing unanswered rounds, rounds answered before them, rounds before)."""
    mine = [r for r in idx.rounds if sid in r.enrolled]
    missed: list[int] = []
    for r in reversed(mine):
        if sid in r.respondents:
            break
        missed.insert(0, r.week)
    before = mine[: len(mine) - len(missed)]
    return missed, sum(sid in r.respondents for r in before), len(before)


def silence_needed(answered: int, total: int, settings: GapSettings) -> int:
    """Unanswered rounds in a row that make a silence.

    spec: ``silence_rounds``. evidence: the fewest rounds k >= ``silence_rounds`` for which a
    student who still takes part, missing rounds at her own rate m, would miss k in a row
    with a chance of at most ``silence_max_chance`` (m^k). The rate is her record before the
    silence with a prior of one miss in ten rounds, so a newcomer needs 3 rounds, a student who
    never skips needs 2 late in the year, and one who often skips needs 4 or more.
    """
    k = settings.silence_rounds
    if settings.mode == "spec":
        return k
    prior = settings.silence_prior_rounds
    rate = (total - answered + settings.silence_prior_rate * prior) / (total + prior)
    while rate**k > settings.silence_max_chance:
        k += 1
    return k


def find_silences(data: CohortAnswers, settings: GapSettings) -> list[Finding]:
    """Students who left the last rounds unanswered (only the rounds passed in count)."""
    return _silence_findings(_index(data), settings)


def _silence_findings(idx: _Index, settings: GapSettings) -> list[Finding]:
    found = []
    for sid in idx.students():
        missed, answered, total = _silence_state(idx, sid)
        if missed and len(missed) >= silence_needed(answered, total, settings):
            note = f"no answer (answered {answered} of {total} rounds before)"
            ev = tuple(Evidence(w, sid, None, None, None, note) for w in missed)
            fp = fingerprint_of("silence", sid, None)
            found.append(Finding("silence", sid, None, tuple(missed), ev, fp))
    return found


# ----------------------------------------------------------------------------- decline


def _span(weeks: list[int]) -> str:
    return f"weeks {weeks[0]}-{weeks[-1]}"


def _decline_at(
    idx: _Index, sid: int, n: int, settings: GapSettings
) -> tuple[list[int], str] | None:
    """Decline test on the student's first ``n`` answered rounds: (weeks, summary) or None.

    spec: mean of the last ``decline_window`` rounds at least ``decline_delta`` below the
    mean of the ``decline_window`` rounds before.
    evidence: each rating of the last ``decline_recent_rounds`` rounds is compared with the
    student's own mean on the same skill over up to ``decline_baseline_rounds`` rounds before;
    the mean difference must be at least ``decline_paired_delta`` down. Pairing by skill
    removes the skill mix of the weeks from the comparison; the long windows average the noise.
    """
    per_week = idx.by_student_week.get(sid, {})
    weeks = sorted(per_week)[:n]
    if settings.mode == "spec":
        w = settings.decline_window
        if len(weeks) < 2 * w:
            return None
        recent = statistics.fmean(r for wk in weeks[-w:] for _, r in per_week[wk])
        prev = statistics.fmean(r for wk in weeks[-2 * w : -w] for _, r in per_week[wk])
        if round(prev - recent, 9) < settings.decline_delta:  # round: 4 - 3 is a drop of 1.0
            return None
        note = f"mean {recent:.2f} in {_span(weeks[-w:])} against {prev:.2f} in "
        return weeks[-2 * w :], note + _span(weeks[-2 * w : -w])
    rn, bn = settings.decline_recent_rounds, settings.decline_baseline_rounds
    if len(weeks) < 2 * rn:
        return None
    base: dict[str, list[int]] = defaultdict(list)
    for wk in weeks[-rn - bn : -rn]:
        for skill, r in per_week[wk]:
            base[skill].append(r)
    diffs = [
        r - statistics.fmean(base[s]) for wk in weeks[-rn:] for s, r in per_week[wk] if s in base
    ]
    if len(diffs) < rn or round(statistics.fmean(diffs), 9) > -settings.decline_paired_delta:
        return None
    note = f"mean {statistics.fmean(diffs):+.2f} against own earlier ratings of the same skills"
    return weeks[
        -rn - bn :
    ], f"{note} ({_span(weeks[-rn:])} against {_span(weeks[-rn - bn : -rn])})"


def find_declines(data: CohortAnswers, settings: GapSettings) -> list[Finding]:
    """Students whose ratings dropped as a whole (all skills together)."""
    return _decline_findings(_index(data), settings)


def _decline_findings(idx: _Index, settings: GapSettings) -> list[Finding]:
    found = []
    for sid in sorted(idx.by_student_week):
        hit = _decline_at(idx, sid, len(idx.by_student_week[sid]), settings)
        if hit:
            weeks, summary = hit
            per_week = idx.by_student_week[sid]
            ev = [Evidence(wk, sid, s, r, None, "rating") for wk in weeks for s, r in per_week[wk]]
            ev.append(Evidence(weeks[-1], sid, None, None, None, summary))
            fp = fingerprint_of("decline", sid, None)
            found.append(Finding("decline", sid, None, tuple(weeks), tuple(ev), fp))
    return found


# ----------------------------------------------------------------------------- all rules


def _fold(cls: Finding, students: list[Finding]) -> Finding:
    """Put the student gaps of a class-gap skill into the class finding: one alert, not 25."""
    extra = []
    for f in students:
        low = [e for e in f.evidence if e.rating is not None]
        last = low[-1] if low else f.evidence[-1]
        ratings = ",".join(str(e.rating) for e in low)
        note = f"student gap (ratings {ratings})"
        extra.append(Evidence(last.week, f.student_id, f.skill, last.rating, None, note))
    return Finding(
        cls.kind, None, cls.skill, cls.weeks, cls.evidence + tuple(extra), cls.fingerprint
    )


def _sort_key(f: Finding) -> tuple[int, int, str]:
    return KIND_ORDER[f.kind], -1 if f.student_id is None else f.student_id, f.skill or ""


def evaluate(data: CohortAnswers, settings: GapSettings) -> list[Finding]:
    """All four rules, in a deterministic order (class, student, decline, silence)."""
    idx = _index(data)
    classes = _class_findings(idx, settings)
    students = _student_findings(idx, settings)
    if settings.fold_into_class:
        by_skill = {c.skill: c for c in classes}
        classes = [_fold(c, [s for s in students if s.skill == c.skill]) for c in classes]
        students = [s for s in students if s.skill not in by_skill]
    found = classes + students + _decline_findings(idx, settings) + _silence_findings(idx, settings)
    return sorted(found, key=_sort_key)


def folded_students(finding: Finding) -> list[int]:
    """Students named in a class finding as having their own gap on the skill."""
    return sorted(
        {e.student_id for e in finding.evidence if e.student_id is not None and e.note}
        if finding.kind == "class_gap"
        else set()
    )


# ----------------------------------------------------------------------------- resolution


def ok_streak(fingerprint: str, data: CohortAnswers, settings: GapSettings) -> int:
    """How many of the latest relevant rounds in a row were *not* low for this gap.

    student_gap: asks of the skill the student answered with a rating above low and no
    request for help. class_gap: rounds asking the skill whose class figure was not low.
    silence: rounds the student answered. decline: answered rounds where the decline test
    no longer holds. The lifecycle resolves a gap when the streak is long enough.
    """
    return ok_streaks([fingerprint], data, settings)[fingerprint]


def ok_streaks(
    fingerprints: Iterable[str], data: CohortAnswers, settings: GapSettings
) -> dict[str, int]:
    """:func:`ok_streak` for many fingerprints, indexing the answers once."""
    idx = _index(data)
    return {fp: _streak(fp, idx, settings) for fp in fingerprints}


def _trailing(flags: Iterable[bool]) -> int:
    """Length of the run of True at the end of ``flags``."""
    n = 0
    for flag in flags:
        n = n + 1 if flag else 0
    return n


def _streak(fingerprint: str, idx: _Index, settings: GapSettings) -> int:
    kind, sid, skill = parse_fingerprint(fingerprint)
    if kind == "student_gap" and sid is not None and skill is not None:
        return _trailing(is_ok(a, settings) for a in idx.asks.get((sid, skill), []))
    if kind == "class_gap" and skill is not None:
        asks = [
            a
            for a in class_asks(idx, skill, settings)
            if len(a.ratings) >= settings.class_min_students
        ]
        return _trailing(not class_ask_low(a, settings) for a in asks)
    if kind == "silence" and sid is not None:
        return _trailing(sid in r.respondents for r in idx.rounds if sid in r.enrolled)
    if kind == "decline" and sid is not None:
        total = len(idx.by_student_week.get(sid, {}))
        n = 0
        while n < total and _decline_at(idx, sid, total - n, settings) is None:
            n += 1
        return n
    raise ValueError(f"unknown fingerprint {fingerprint!r}")
