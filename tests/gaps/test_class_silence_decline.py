"""Class gap, silence and decline: the SPEC examples and the improved rules."""

from __future__ import annotations

from dataclasses import replace

from bot.gaps.rules import (
    GapSettings,
    evaluate,
    find_class_gaps,
    find_declines,
    find_silences,
    folded_students,
    ok_streak,
    silence_needed,
)

from .helpers import Row, answers

SPEC = GapSettings.spec_baseline()
IMPROVED = GapSettings()


def class_round(week: int, ratings: list[int], skill: str = "s") -> list[Row]:
    """Student i gives ratings[i] on ``skill`` in ``week``."""
    return [(i, week, skill, r) for i, r in enumerate(ratings)]


# ----------------------------------------------------------------------------- class gaps


def test_spec_class_gap_30_percent_and_3_students_in_2_of_3_rounds() -> None:
    low3 = [2, 2, 1] + [4] * 7  # 3 of 10 = 30 %
    rows = class_round(1, low3) + class_round(4, [2] + [4] * 9) + class_round(7, low3)
    [f] = find_class_gaps(answers(rows), SPEC)
    assert (f.kind, f.student_id, f.skill, f.fingerprint) == (
        "class_gap",
        None,
        "s",
        "class_gap:-:s",
    )
    assert f.weeks == (1, 4, 7)
    assert f.evidence[0].note == "class mean 3.30, 3 of 10 low"


def test_spec_class_gap_needs_three_students_and_thirty_percent() -> None:
    two_of_six = [2, 2, 4, 4, 4, 4]  # 33 % but only 2 students
    rows = class_round(1, two_of_six) + class_round(4, two_of_six)
    assert find_class_gaps(answers(rows), SPEC) == []
    three_of_eleven = [2, 2, 2] + [4] * 8  # 3 students but 27 %
    rows = class_round(1, three_of_eleven) + class_round(4, three_of_eleven)
    assert find_class_gaps(answers(rows), SPEC) == []


def test_evidence_class_gap_on_the_class_mean_of_two_asks() -> None:
    low = [2] * 6 + [3] * 4  # mean 2.4
    assert find_class_gaps(answers(class_round(1, low)), IMPROVED) == []  # one ask: not yet
    rows = class_round(1, low) + class_round(4, low)
    [f] = find_class_gaps(answers(rows), IMPROVED)
    assert f.weeks == (1, 4)
    # 30 % low with a mean of 3.1 is normal noise for a class, not a class gap
    rows = class_round(1, [2, 2, 1] + [4] * 7) + class_round(4, [2, 2, 1] + [4] * 7)
    assert find_class_gaps(answers(rows), IMPROVED) == []


def test_student_gaps_of_a_class_gap_skill_are_folded_into_one_alert() -> None:
    low = [1] + [2] * 5 + [3] * 4
    rows = class_round(1, low) + class_round(4, low) + [(0, 1, "t", 1), (0, 4, "t", 1)]
    found = evaluate(answers(rows), IMPROVED)
    assert [f.fingerprint for f in found] == ["class_gap:-:s", "student_gap:0:t"]
    assert folded_students(found[0]) == [0]  # student 0 rated s 1, 1: named in the class alert
    assert [e.note for e in found[0].evidence if e.student_id == 0] == ["student gap (ratings 1,1)"]
    unfolded = evaluate(answers(rows), IMPROVED.model_copy(update={"fold_into_class": False}))
    assert "student_gap:0:s" in [f.fingerprint for f in unfolded]


def test_class_ok_streak() -> None:
    low, fine = [2] * 6 + [3] * 4, [3] * 10
    rows = class_round(1, low) + class_round(4, low) + class_round(7, fine) + class_round(10, fine)
    assert ok_streak("class_gap:-:s", answers(rows), IMPROVED) == 2
    assert find_class_gaps(answers(rows), IMPROVED) == []
    assert find_class_gaps(answers(rows[:30]), IMPROVED) != []  # one OK round: still open


# ----------------------------------------------------------------------------- silence


def test_spec_silence_after_two_unanswered_rounds() -> None:
    rows = [(1, w, "s", 4) for w in range(1, 5)] + [(2, 1, "s", 4), (2, 2, "s", 4), (3, 3, "s", 4)]
    [f] = find_silences(answers(rows, enrolled=[1, 2, 3]), SPEC)
    assert (f.student_id, f.weeks, f.fingerprint) == (2, (3, 4), "silence:2:-")
    assert f.evidence[0].note == "no answer (answered 2 of 2 rounds before)"


def test_silence_counts_only_rounds_the_student_was_enrolled_in() -> None:
    data = answers([(1, w, "s", 4) for w in range(1, 5)], enrolled=[1, 2])
    assert [f.student_id for f in find_silences(data, SPEC)] == [2]
    late = tuple(
        replace(r, enrolled=frozenset({1})) if r.week < 4 else r for r in data.rounds
    )  # student 2 joined in week 4: one unanswered round so far
    assert find_silences(replace(data, rounds=late), SPEC) == []


def test_evidence_silence_weighs_the_students_own_record() -> None:
    # issue 11: a student who answered nothing since joining is told after 2 rounds (was 4),
    # and nobody waits more than 3 (a student who often skips waited 5)
    assert silence_needed(0, 0, IMPROVED) == 2  # answered nothing since joining
    assert silence_needed(12, 12, IMPROVED) == 3  # always answered
    assert silence_needed(1, 1, IMPROVED) == 3  # one answer: 4 by her record, capped at 3
    assert silence_needed(8, 12, IMPROVED) == 3  # often skips: still at most 3
    assert silence_needed(8, 12, SPEC) == 2
    rows = [(1, w, "s", 4) for w in range(1, 16)] + [(2, w, "s", 4) for w in range(1, 13)]
    data = answers(rows, enrolled=[1, 2])
    assert [f.student_id for f in find_silences(data, IMPROVED)] == [2]
    rows += [(2, 13, "s", 4)]  # two unanswered rounds are not enough for a regular student
    assert find_silences(answers(rows, enrolled=[1, 2]), IMPROVED) == []
    assert [f.student_id for f in find_silences(answers(rows, enrolled=[1, 2]), SPEC)] == [2]


def test_a_newcomer_who_never_answered_is_a_silence_after_two_rounds() -> None:
    rows = [(1, w, "s", 4) for w in (1, 2)]
    data = answers(rows, enrolled=[1, 2])  # student 2 joined and answered nothing
    assert [f.student_id for f in find_silences(data, IMPROVED)] == [2]
    one_round = answers([(1, 1, "s", 4)], enrolled=[1, 2])
    assert find_silences(one_round, IMPROVED) == []


def test_nobody_waits_more_than_three_unanswered_rounds() -> None:
    often_skips = [(1, w, "s", 4) for w in range(1, 13) if w not in (3, 6, 9, 11)]  # 8 of 12
    rows = [*often_skips, *[(2, w, "s", 4) for w in range(1, 16)]]  # then 13-15 unanswered
    assert [f.student_id for f in find_silences(answers(rows), IMPROVED)] == [1]
    two_missed = [r for r in rows if r[1] != 15]
    assert find_silences(answers(two_missed), IMPROVED) == []


def test_silence_ok_streak_counts_answered_rounds() -> None:
    rows = [(1, w, "s", 4) for w in (1, 4, 5)] + [(2, w, "s", 4) for w in range(1, 6)]
    assert ok_streak("silence:1:-", answers(rows), IMPROVED) == 2


# ----------------------------------------------------------------------------- decline


def weekly(
    student: int, ratings: list[int], skills: tuple[str, ...] = ("a", "b", "c")
) -> list[Row]:
    """One round a week from week 1; the round's ratings all equal ratings[week - 1]."""
    return [(student, w + 1, s, r) for w, r in enumerate(ratings) for s in skills]


def test_spec_decline_of_one_point_over_three_reflections() -> None:
    [f] = find_declines(answers(weekly(1, [4, 4, 4, 3, 3, 3])), SPEC)
    assert (f.student_id, f.weeks, f.fingerprint) == (1, (1, 2, 3, 4, 5, 6), "decline:1:-")
    assert find_declines(answers(weekly(1, [4, 4, 4, 4, 3, 3])), SPEC) == []


def test_evidence_decline_compares_skill_for_skill_over_longer_windows() -> None:
    [f] = find_declines(answers(weekly(1, [4] * 16 + [3] * 8)), IMPROVED)
    assert f.weeks == tuple(range(1, 25))
    assert f.evidence[-1].note is not None and f.evidence[-1].note.startswith("mean -1.00")
    assert find_declines(answers(weekly(1, [4] * 16 + [3] * 4 + [4] * 4)), IMPROVED) == []


def test_evidence_decline_is_not_fooled_by_the_mix_of_skills() -> None:
    """Strong on a (4), weak on b (2): three weeks that ask only b look like a drop of 2."""
    skills = ["a", "a", "a", "b"] * 4 + ["a"] * 5 + ["b"] * 3
    rows: list[Row] = [(1, w + 1, s, 4 if s == "a" else 2) for w, s in enumerate(skills)]
    assert find_declines(answers(rows), SPEC) != []
    assert find_declines(answers(rows), IMPROVED) == []


def test_decline_ok_streak() -> None:
    data = answers(weekly(1, [4, 4, 4, 3, 3, 3, 3, 3]))
    assert ok_streak("decline:1:-", data, SPEC) == 2
