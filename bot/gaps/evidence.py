"""Gap rules that weigh the answers on a skill: recurring student gaps and class gaps.

Pure functions over a ``CohortAnswers`` snapshot; ``bot.gaps.rules`` re-exports the public ones and
folds student gaps into class gaps in :func:`bot.gaps.rules.evaluate`.
"""

from __future__ import annotations

import statistics
from typing import NamedTuple

from bot.gaps.model import (
    OBSERVATION_LEVELS,
    AnswerIndex,
    Ask,
    CohortAnswers,
    Evidence,
    Finding,
    GapSettings,
    ask_points,
    fingerprint_of,
    index_answers,
    is_low,
    is_ok,
    open_since,
)

# ----------------------------------------------------------------------------- student gaps


def scan_student(asks: list[Ask], settings: GapSettings) -> int | None:
    """Evidence rule for one student and skill: the points of the last ``evidence_window``
    asks reach ``evidence_threshold`` at an ask that was not OK; resolved by
    ``resolve_ok_asks`` OK asks in a row. Returns the first index of the evidence, or None."""
    points = [ask_points(a, settings) for a in asks]
    ok = [is_ok(a, settings) for a in asks]

    def trigger(lo: int, hi: int) -> bool:
        enough = hi - lo >= settings.evidence_min_asks
        return enough and sum(points[lo:hi]) >= settings.evidence_threshold

    return open_since(ok, settings.evidence_window, settings.resolve_ok_asks, trigger)


def _student_evidence(
    sid: int, skill: str, asks: list[Ask], idx: AnswerIndex, settings: GapSettings
) -> tuple[Evidence, ...]:
    """Ratings (with their points), help requests, and the student's words of low weeks."""
    out: list[Evidence] = []
    for a in asks:
        parts = ([f"rating {a.rating}"] if a.rating is not None else []) + (
            ["asked for help"] if a.help else []
        )
        if a.observed is not None:
            parts.append(f"workplace {OBSERVATION_LEVELS[a.observed]}")
        note = ", ".join(parts)
        if settings.mode == "evidence":
            note += f" ({ask_points(a, settings):+d})"
        out.append(Evidence(a.week, sid, skill, a.rating, None, note, a.observed))
        if not is_ok(a, settings):
            out += [Evidence(a.week, sid, None, None, t, "words") for t in idx.words[(sid, a.week)]]
    return tuple(out)


def student_findings(idx: AnswerIndex, settings: GapSettings) -> list[Finding]:
    found: list[Finding] = []
    # the SPEC rule hears the student only; the evidence rule weighs both views
    series = idx.asks if settings.mode == "spec" else idx.both
    for (sid, skill), asks in sorted(series.items()):
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
    return student_findings(index_answers(data), settings)


# ----------------------------------------------------------------------------- class gaps


class ClassAsk(NamedTuple):
    """One round's answers on one skill by the whole class."""

    week: int
    ratings: tuple[int, ...]
    low_students: frozenset[int]
    respondents: int


def class_asks(idx: AnswerIndex, skill: str, settings: GapSettings) -> list[ClassAsk]:
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


def class_findings(idx: AnswerIndex, settings: GapSettings) -> list[Finding]:
    found = []
    for skill in sorted({s for r in idx.rounds for s in r.skills}):
        finding = class_finding(skill, class_asks(idx, skill, settings), settings)
        if finding is not None:
            found.append(finding)
    return found


def class_finding(skill: str, asks: list[ClassAsk], settings: GapSettings) -> Finding | None:
    """The class gap on ``skill`` from its class asks, oldest first, or None. Each ask depends
    only on its own round, so a caller may keep the asks of closed rounds and add the open
    rounds' (bot.gaps.check)."""
    first = scan_class(asks, settings)
    if first is None:
        return None
    window = asks[first:][-6:]
    ev = tuple(
        Evidence(a.week, None, skill, None, None, f"class mean {_mean(a.ratings)}, "
                 f"{len(a.low_students)} of {a.respondents} low")
        for a in window
    )  # fmt: skip
    fp = fingerprint_of("class_gap", None, skill)
    return Finding("class_gap", None, skill, tuple(a.week for a in window), ev, fp)


def _mean(values: tuple[int, ...]) -> str:
    return f"{statistics.fmean(values):.2f}" if values else "-"


def find_class_gaps(data: CohortAnswers, settings: GapSettings) -> list[Finding]:
    """Recurring class gaps, without the folded student gaps (see :func:`evaluate`)."""
    return class_findings(index_answers(data), settings)
