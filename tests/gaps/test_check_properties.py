"""The per-answer incremental gap check gives what the full evaluation gives (issue 10).

`bot.gaps.check.GapCheck` keeps a cohort's closed rounds grouped per student and per skill and
re-runs the rules only where an open round's answers changed. On random cohorts (with the
workplace's observations) split at a random round into closed and open rounds, and after a
second answer arrives in the open rounds, its findings and ok-streaks must equal
``rules.evaluate`` and ``rules.ok_streaks`` on the whole snapshot.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.gaps.cache import CohortCache, cache_entry
from bot.gaps.check import GapCheck
from bot.gaps.cohort_data import CohortData, SnapshotPart
from bot.gaps.rules import (
    CohortAnswers,
    GapSettings,
    WorkplaceObservation,
    evaluate,
    fingerprint_of,
    ok_streaks,
)
from storage.records import RoundRecord

from .scenario import cohort_data
from .test_properties import SKILLS, cohorts

BOTH = [GapSettings(), GapSettings.spec_baseline()]
CHECK = settings(max_examples=120, deadline=None)
NOW = datetime(2026, 10, 1, tzinfo=UTC)


@st.composite
def with_observations(draw: st.DrawFn) -> CohortAnswers:
    """A random cohort whose werkbegeleiders observed some of the asked skills each week,
    also in weeks the student did not answer."""
    data = draw(cohorts())
    asked = [(r.week, skill, sid) for r in data.rounds for skill in r.skills for sid in range(4)]
    picks = draw(st.lists(st.integers(-1, 3), min_size=len(asked), max_size=len(asked)))
    seen = tuple(
        WorkplaceObservation(sid, week, skill, level, 90 + sid)
        for (week, skill, sid), level in zip(asked, picks, strict=True)
        if level >= 0  # -1: niet gezien, no observation
    )
    return CohortAnswers(data.rounds, data.ratings, data.helps, data.words, seen)


def part(data: CohortAnswers, weeks: set[int]) -> SnapshotPart:
    return SnapshotPart(
        {r.week: r for r in data.rounds if r.week in weeks},
        [r for r in data.ratings if r.week in weeks],
        [h for h in data.helps if h.week in weeks],
        [w for w in data.words if w.week in weeks],
    )


def check_of(
    data: CohortAnswers, split: int, s: GapSettings, entry: CohortCache | None = None
) -> GapCheck:
    weeks = [r.week for r in data.rounds]
    closed = set(weeks[:split])
    rounds = [
        RoundRecord(w, 1, w, "reflection", "closed" if w in closed else "open", NOW, None)
        for w in weeks
    ]
    if entry is None:
        empty = cohort_data()
        base = CohortData(empty.cohort, empty.plan, rounds, [], {}, {}, {})
        kept = [o for o in data.observations if o.week in closed]
        entry = cache_entry((), base, s, part(data, closed), kept)
    # the closed weeks' observations are kept in the entry, the open ones read each check,
    # as gap_check does
    opened = tuple(o for o in data.observations if o.week not in closed)
    return GapCheck(entry, part(data, set(weeks) - closed), rounds, opened)


def fingerprints(data: CohortAnswers) -> list[str]:
    """Every fingerprint the lifecycle could ask an ok-streak for in this cohort."""
    out = [fingerprint_of("class_gap", None, k) for k in SKILLS]
    for sid in range(4):
        out += [fingerprint_of(kind, sid, None) for kind in ("silence", "decline")]
        out += [fingerprint_of(kind, sid, k) for kind in ("student_gap", "blind_spot")
                for k in SKILLS]  # fmt: skip
    return out


@CHECK
@given(with_observations(), st.integers(0, 14), st.sampled_from(BOTH))
def test_incremental_check_equals_the_full_evaluation(
    data: CohortAnswers, split: int, s: GapSettings
) -> None:
    check = check_of(data, split, s)
    assert check.findings() == evaluate(data, s)
    fps = fingerprints(data)
    assert check.ok_streaks(fps) == ok_streaks(fps, data, s)


@CHECK
@given(with_observations(), st.integers(0, 14), st.sampled_from(BOTH), st.data())
def test_a_new_answer_in_an_open_round_is_seen_by_the_cached_check(
    data: CohortAnswers, split: int, s: GapSettings, draw: st.DataObject
) -> None:
    """The cache of the closed rounds stays; an open round gains its last answers."""
    weeks = [r.week for r in data.rounds]
    open_weeks = set(weeks[split:])
    # often only the workplace's view changes: the memos must notice that too
    keep = draw.draw(st.one_of(st.just(len(data.ratings)), st.integers(0, len(data.ratings))))
    earlier = CohortAnswers(
        data.rounds,
        tuple(r for i, r in enumerate(data.ratings) if r.week not in open_weeks or i < keep),
        data.helps,
        data.words,
        tuple(o for o in data.observations if o.week not in open_weeks or o.student_id % 2),
    )
    first = check_of(earlier, split, s)
    fps = fingerprints(data)
    assert first.findings() == evaluate(earlier, s)
    assert first.ok_streaks(fps) == ok_streaks(fps, earlier, s)
    later = check_of(data, split, s, entry=first.entry)  # the same cache, the memos kept
    assert later.findings() == evaluate(data, s)
    assert later.ok_streaks(fps) == ok_streaks(fps, data, s)
