"""Gap rules: pure functions from stored answers to findings with evidence.

No I/O, no Telegram, no database: every finding is recomputed from a ``CohortAnswers``
snapshot, so any instance can decide alerts after a restart. Two rule sets share one
interface, chosen by ``GapSettings.mode``:

* ``"spec"``: the starting rules (2 of the last 3 asks low, 30 % of the class, 2 silent
  rounds, a 1.0 drop of the mean); ``GapSettings.spec_baseline()``.
* ``"evidence"`` (default): rules that weigh evidence across asks so that noisy self-ratings do
  not trip alerts. docs/gap-rules.md has the reasoning and the measured quality.

The rules are split over modules, all re-exported here: ``bot.gaps.model`` (the answers,
settings, findings and per-ask primitives), ``bot.gaps.evidence`` (student and class gaps),
``bot.gaps.two_views`` (blind spots, students stricter for themselves) and ``bot.gaps.timing``
(silence and decline). This module combines them (:func:`evaluate`) and
counts how long a gap has been fine (:func:`ok_streaks`).
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.gaps.evidence import (
    ClassAsk,
    class_ask_low,
    class_asks,
    class_findings,
    find_class_gaps,
    find_student_gaps,
    scan_class,
    scan_student,
    student_findings,
)
from bot.gaps.model import (
    KIND_ORDER,
    AnswerIndex,
    Ask,
    CohortAnswers,
    Evidence,
    Finding,
    GapSettings,
    HelpRequest,
    Kind,
    RatingAnswer,
    ReflectionRound,
    StudentWords,
    WorkplaceObservation,
    ask_points,
    fingerprint_of,
    index_answers,
    is_low,
    is_ok,
    open_since,
    parse_fingerprint,
    trailing_run,
)
from bot.gaps.timing import (
    decline_at,
    decline_findings,
    find_declines,
    find_silences,
    silence_findings,
    silence_needed,
)
from bot.gaps.two_views import (
    StricterForSelf,
    blind_spot_findings,
    blind_spot_flags,
    find_blind_spots,
    stricter_for_self,
)

__all__ = [
    "KIND_ORDER",
    "Ask",
    "ClassAsk",
    "CohortAnswers",
    "Evidence",
    "Finding",
    "GapSettings",
    "HelpRequest",
    "Kind",
    "RatingAnswer",
    "ReflectionRound",
    "StricterForSelf",
    "StudentWords",
    "WorkplaceObservation",
    "ask_points",
    "class_ask_low",
    "class_asks",
    "evaluate",
    "evaluate_students",
    "find_blind_spots",
    "find_class_gaps",
    "find_declines",
    "find_silences",
    "find_student_gaps",
    "fingerprint_of",
    "fold_students",
    "folded_students",
    "is_low",
    "is_ok",
    "ok_streak",
    "ok_streaks",
    "open_since",
    "parse_fingerprint",
    "scan_class",
    "scan_student",
    "silence_needed",
    "stricter_for_self",
]


# ----------------------------------------------------------------------------- all rules


def fold_students(cls: Finding, students: list[Finding]) -> Finding:
    """The class finding with the student gaps of its skill in it: one alert, not 25."""
    extra = []
    for f in students:
        rated = [e for e in f.evidence if e.rating is not None] or list(f.evidence[-1:])
        note = f"student gap (ratings {','.join(str(e.rating) for e in rated if e.rating)})"
        extra.append(Evidence(rated[-1].week, f.student_id, f.skill, rated[-1].rating, None, note))
    return Finding(
        "class_gap", None, cls.skill, cls.weeks, cls.evidence + tuple(extra), cls.fingerprint
    )


def finding_order(f: Finding) -> tuple[int, int, str]:
    """Findings sort by kind (class, student, decline, silence), student, skill."""
    return KIND_ORDER[f.kind], -1 if f.student_id is None else f.student_id, f.skill or ""


def evaluate(data: CohortAnswers, settings: GapSettings) -> list[Finding]:
    """All rules, sorted by kind (class, student, blind spot, decline, silence), student, skill."""
    idx = index_answers(data)
    classes = class_findings(idx, settings)
    students = student_findings(idx, settings)
    if settings.fold_into_class:
        class_skills = {c.skill for c in classes}
        classes = [fold_students(c, [s for s in students if s.skill == c.skill]) for c in classes]
        students = [s for s in students if s.skill not in class_skills]
    found = classes + students + blind_spot_findings(idx, settings)
    found += decline_findings(idx, settings) + silence_findings(idx, settings)
    return sorted(found, key=finding_order)


def evaluate_students(data: CohortAnswers, settings: GapSettings) -> list[Finding]:
    """The rules that look at one student's answers only (student gaps, blind spots,
    declines, silences), unfolded, in `evaluate`'s order: what `evaluate` gives with
    `fold_into_class` off, less the class gaps. The per-answer check runs it on one student's
    snapshot, where the class rule would be work thrown away."""
    idx = index_answers(data)
    found = student_findings(idx, settings) + blind_spot_findings(idx, settings)
    found += decline_findings(idx, settings) + silence_findings(idx, settings)
    return sorted(found, key=finding_order)


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
    idx = index_answers(data)
    return {fp: _streak(fp, idx, settings) for fp in fingerprints}


def _streak(fingerprint: str, idx: AnswerIndex, settings: GapSettings) -> int:
    kind, sid, skill = parse_fingerprint(fingerprint)
    if kind == "student_gap" and sid is not None and skill is not None:
        series = idx.asks if settings.mode == "spec" else idx.both
        return trailing_run(is_ok(a, settings) for a in series.get((sid, skill), []))
    if kind == "blind_spot" and sid is not None and skill is not None:
        return trailing_run(not m for m in blind_spot_flags(idx, sid, skill, settings))
    if kind == "class_gap" and skill is not None:
        return trailing_run(
            not class_ask_low(a, settings) for a in class_asks(idx, skill, settings)
        )
    if kind == "silence" and sid is not None:
        return trailing_run(sid in r.respondents for r in idx.rounds if sid in r.enrolled)
    if kind == "decline" and sid is not None:
        total, n = len(idx.by_student_week.get(sid, {})), 0
        while n < total and decline_at(idx, sid, total - n, settings) is None:
            n += 1
        return n
    raise ValueError(f"unknown fingerprint {fingerprint!r}")
