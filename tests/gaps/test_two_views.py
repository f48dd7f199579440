"""Both views in the rules: the workplace's observation weighs a student gap, a blind spot is
an alert of its own, a student stricter for herself than the workplace is a digest line."""

from __future__ import annotations

from dataclasses import replace

from bot.gaps.lifecycle import RESOLVE_OK_ROUNDS
from bot.gaps.rules import (
    CohortAnswers,
    GapSettings,
    WorkplaceObservation,
    evaluate,
    find_blind_spots,
    find_student_gaps,
    ok_streak,
    stricter_for_self,
)

from .helpers import answers, series

IMPROVED = GapSettings()
NOOIT, OEFENEN, VOLDOENDE, GOED = 0, 1, 2, 3


def seen(student: int, skill: str, levels: list[int | None], every: int = 3) -> tuple:
    """The workplace's view of one student's skill in the weeks ``series`` asks it."""
    return tuple(
        WorkplaceObservation(student, 1 + i * every, skill, level, 90)
        for i, level in enumerate(levels)
        if level is not None
    )


def both(rows: list, observations: tuple) -> CohortAnswers:
    return replace(answers(rows), observations=observations)


def kinds(data: CohortAnswers) -> list[str]:
    return [f.kind for f in evaluate(data, IMPROVED)]


def test_a_gap_the_workplace_confirms_needs_fewer_asks() -> None:
    rows = series(1, "s", [2, 3, 2, 2])
    assert find_student_gaps(answers(rows), IMPROVED) == []  # self alone: never
    data = both(rows, seen(1, "s", [OEFENEN, OEFENEN, OEFENEN, OEFENEN]))
    [gap] = find_student_gaps(data, IMPROVED)
    assert gap.weeks == (1, 4, 7, 10)
    at_third = both(rows[:3], seen(1, "s", [OEFENEN, OEFENEN, OEFENEN]))
    assert [f.kind for f in find_student_gaps(at_third, IMPROVED)] == ["student_gap"]
    assert [e.observed for e in gap.evidence] == [OEFENEN] * 4


def test_one_bad_week_is_no_signal_even_with_both_views() -> None:
    data = both(series(1, "s", [1]), seen(1, "s", [NOOIT]))
    assert kinds(data) == []
    data = both(series(1, "s", [1, 2]), seen(1, "s", [NOOIT, OEFENEN]))
    assert kinds(data) == ["student_gap"]


def test_the_workplace_saying_voldoende_outweighs_noisy_low_ratings() -> None:
    rows = series(1, "s", [1, 2, 2])
    assert kinds(answers(rows)) == ["student_gap"]
    assert kinds(both(rows, seen(1, "s", [VOLDOENDE, GOED, VOLDOENDE]))) == []


def test_weeks_seen_only_by_the_workplace_count_as_evidence() -> None:
    rows = series(1, "s", [2, 2])  # she skipped the third and fourth ask
    data = both(rows, seen(1, "s", [OEFENEN, OEFENEN, NOOIT, NOOIT]))
    [gap] = find_student_gaps(data, IMPROVED)
    assert gap.weeks == (1, 4, 7, 10)


def test_a_gap_resolves_when_both_views_are_fine_twice() -> None:
    rows = series(1, "s", [2, 2, 2, 4, 4])
    obs = seen(1, "s", [OEFENEN, OEFENEN, OEFENEN, VOLDOENDE, VOLDOENDE])
    assert ok_streak("student_gap:1:s", both(rows, obs), IMPROVED) == 2
    still = seen(1, "s", [OEFENEN, OEFENEN, OEFENEN, VOLDOENDE, OEFENEN])
    assert ok_streak("student_gap:1:s", both(rows, still), IMPROVED) == 0  # rated 4, seen oefenen


def test_two_werkbegeleiders_in_one_week_the_lower_view_counts() -> None:
    rows = series(1, "s", [3, 3])
    obs = seen(1, "s", [GOED, GOED]) + seen(1, "s", [NOOIT, NOOIT])
    assert kinds(both(rows, obs)) == kinds(both(rows, obs[::-1]))


def test_blind_spot_high_self_rating_where_the_workplace_says_nooit_or_oefenen() -> None:
    rows = series(1, "s", [4, 5, 4])
    once = both(rows, seen(1, "s", [NOOIT, VOLDOENDE, VOLDOENDE]))
    assert find_blind_spots(once, IMPROVED) == []  # once is no pattern
    weakly = both(rows[:2], seen(1, "s", [OEFENEN, OEFENEN]))
    assert find_blind_spots(weakly, IMPROVED) == []  # twice oefenen is no gap by itself yet
    data = both(rows, seen(1, "s", [OEFENEN, NOOIT, OEFENEN]))
    [spot] = find_blind_spots(data, IMPROVED)
    assert (spot.kind, spot.student_id, spot.skill, spot.weeks) == ("blind_spot", 1, "s", (1, 4, 7))
    assert spot.fingerprint == "blind_spot:1:s"
    assert [(e.rating, e.observed) for e in spot.evidence] == [(4, 1), (5, 0), (4, 1)]
    thrice = both(rows, seen(1, "s", [OEFENEN, OEFENEN, OEFENEN]))  # 9 workplace points
    assert [f.kind for f in find_blind_spots(thrice, IMPROVED)] == ["blind_spot"]
    assert kinds(data) == ["blind_spot"]  # and no student gap: she rates herself high


def test_blind_spot_needs_both_views_in_the_same_week() -> None:
    rows = series(1, "s", [5, 5])
    obs = (WorkplaceObservation(1, 2, "s", NOOIT, 90), WorkplaceObservation(1, 5, "s", NOOIT, 90))
    assert find_blind_spots(both(rows, obs), IMPROVED) == []


def test_blind_spot_resolves_after_two_weeks_of_agreement() -> None:
    rows = series(1, "s", [4, 5, 4, 4, 4])
    obs = seen(1, "s", [OEFENEN, OEFENEN, OEFENEN, VOLDOENDE, GOED])
    data = both(rows, obs)
    assert ok_streak("blind_spot:1:s", data, IMPROVED) == 2 == RESOLVE_OK_ROUNDS["blind_spot"]
    assert find_blind_spots(data, IMPROVED) == []


def test_stricter_for_herself_is_a_digest_finding_never_an_alert() -> None:
    rows = series(1, "s", [2, 1, 2])
    data = both(rows, seen(1, "s", [VOLDOENDE, GOED, VOLDOENDE]))
    assert kinds(data) == []
    [line] = stricter_for_self(data, IMPROVED)
    assert (line.student_id, line.skill, line.weeks) == (1, "s", (1, 4, 7))
    assert (line.ratings, line.observed) == ((2, 1, 2), (VOLDOENDE, GOED, VOLDOENDE))
    once = both(rows, seen(1, "s", [VOLDOENDE, OEFENEN, OEFENEN]))
    assert stricter_for_self(once, IMPROVED) == []


def test_without_a_werkbegeleider_the_rules_are_what_they_were() -> None:
    rows = series(1, "s", [1, 2, 2]) + series(2, "s", [4, 4, 5])
    data = answers(rows)
    assert replace(data, observations=()) == data
    assert kinds(data) == ["student_gap"]
    assert stricter_for_self(data, IMPROVED) == [] and find_blind_spots(data, IMPROVED) == []
