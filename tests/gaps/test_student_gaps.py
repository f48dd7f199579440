"""Recurring student gap: the SPEC rule (2 of the last 3 asks) and the evidence rule."""

from __future__ import annotations

from bot.gaps.rules import GapSettings, find_student_gaps, ok_streak

from .helpers import answers, series

SPEC = GapSettings.spec_baseline()
IMPROVED = GapSettings()


def test_spec_low_in_two_of_last_three_asks_is_a_gap() -> None:
    data = answers(series(7, "observeren", [4, 2, 3, 1]))
    [f] = find_student_gaps(data, SPEC)
    assert (f.kind, f.student_id, f.skill) == ("student_gap", 7, "observeren")
    assert f.fingerprint == "student_gap:7:observeren"
    assert f.weeks == (4, 7, 10)  # the last three asks: the evidence names weeks and ratings
    assert [e.rating for e in f.evidence if e.rating is not None] == [2, 3, 1]


def test_spec_one_low_in_last_three_is_no_gap() -> None:
    data = answers(series(7, "observeren", [1, 1, 4, 2, 3]))  # old lows left the window
    assert find_student_gaps(data, SPEC) == []


def test_spec_help_request_counts_as_low() -> None:
    rows = series(7, "spelen", [3, 4, 2])
    data = answers(rows, helps=[(7, 4, "spelen")])
    [f] = find_student_gaps(data, SPEC)
    assert any(e.note and "help" in e.note for e in f.evidence)


def test_spec_counts_the_students_own_reflections_not_missed_rounds() -> None:
    # weeks 4 and 7 asked the skill but the student did not answer them
    rows = series(7, "spelen", [2]) + [(7, 10, "spelen", 2)] + [(8, w, "spelen", 4) for w in (4, 7)]
    [f] = find_student_gaps(answers(rows), SPEC)
    assert f.student_id == 7 and f.weeks == (1, 10)


def test_evidence_two_ones_are_enough() -> None:
    [f] = find_student_gaps(answers(series(3, "hygiene", [1, 1])), IMPROVED)
    assert f.weeks == (1, 4)
    assert [e.note for e in f.evidence] == ["rating 1 (+3)", "rating 1 (+3)"]


def test_evidence_three_twos_are_not_enough_but_a_help_request_tips_it() -> None:
    rows = series(3, "hygiene", [2, 2, 2])
    assert find_student_gaps(answers(rows), IMPROVED) == []
    [f] = find_student_gaps(answers(rows, helps=[(3, 7, "hygiene")]), IMPROVED)
    assert f.evidence[-1].note == "rating 2, asked for help (+3)"


def test_evidence_noise_around_three_is_no_gap() -> None:
    """A level-3 student who taps a 2 now and then (the SPEC rule fires on it)."""
    ratings = [3, 2, 3, 2, 3, 3, 4, 2, 3, 2]
    assert find_student_gaps(answers(series(5, "taal", ratings)), IMPROVED) == []
    assert find_student_gaps(answers(series(5, "taal", ratings)), SPEC) != []


def test_evidence_gap_stays_until_two_ok_asks_in_a_row() -> None:
    assert find_student_gaps(answers(series(1, "s", [1, 1, 3])), IMPROVED)
    assert find_student_gaps(answers(series(1, "s", [1, 1, 3, 2, 3])), IMPROVED)
    assert find_student_gaps(answers(series(1, "s", [1, 1, 3, 3])), IMPROVED) == []
    # after resolving, one more 2 is no new gap: its last 4 asks have 2 points
    assert find_student_gaps(answers(series(1, "s", [1, 1, 3, 3, 2])), IMPROVED) == []
    # a new 1 with a request for help in the window reopens it: 5 - 2 + 3 = 6 points
    rows = series(1, "s", [1, 3, 3, 1])
    assert find_student_gaps(answers(rows, helps=[(1, 1, "s")]), IMPROVED)


def test_evidence_only_an_answer_that_is_not_ok_opens_a_gap() -> None:
    """A good answer can never open a gap, not even when an older 5 leaves the window."""
    assert find_student_gaps(answers(series(1, "s", [5, 1, 1, 1, 3])), IMPROVED) == []
    assert find_student_gaps(answers(series(1, "s", [5, 1, 1, 1, 2])), IMPROVED)


def test_evidence_includes_the_students_words_of_low_weeks() -> None:
    data = answers(
        series(2, "s", [1, 1]),
        words=[(2, 4, "Ik wist niet wat ik moest doen"), (9, 4, "someone else")],
    )
    [f] = find_student_gaps(data, IMPROVED)
    assert [e.text for e in f.evidence if e.text] == ["Ik wist niet wat ik moest doen"]


def test_ok_streak_counts_latest_ok_asks() -> None:
    data = answers(series(1, "s", [1, 1, 2, 3, 4]))
    assert ok_streak("student_gap:1:s", data, IMPROVED) == 2
    data = answers(series(1, "s", [1, 1, 3]), helps=[(1, 7, "s")])
    assert ok_streak("student_gap:1:s", data, IMPROVED) == 0  # help makes the ask low


def test_help_requests_alone_can_make_a_gap() -> None:
    data = answers([], helps=[(4, 1, "s"), (4, 4, "s"), (4, 7, "s")])
    [f] = find_student_gaps(data, IMPROVED)
    assert f.student_id == 4 and f.weeks == (1, 4, 7)


def test_spec_baseline_is_reachable_and_defaults_are_improved() -> None:
    assert GapSettings().mode == "evidence"
    assert SPEC.mode == "spec" and SPEC.student_low_needed == 2 and SPEC.student_window == 3
    assert GapSettings(**SPEC.model_dump()) == SPEC
