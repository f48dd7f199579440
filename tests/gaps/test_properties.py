"""Property-based tests of the gap rules and the alert lifecycle (hypothesis)."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.gaps.lifecycle import (
    RERAISE_AFTER_ROUNDS,
    AlertState,
    Raise,
    Reraise,
    Resolve,
    acknowledge,
    apply,
    decide,
    mute,
)
from bot.gaps.rules import (
    CohortAnswers,
    GapSettings,
    HelpRequest,
    RatingAnswer,
    ReflectionRound,
    StudentWords,
    evaluate,
    folded_students,
    ok_streaks,
)

from .test_lifecycle import finding

SKILLS = ("a", "b", "c")
BOTH = [GapSettings(), GapSettings.spec_baseline()]
FAST = settings(max_examples=150, deadline=None)


@st.composite
def cohorts(draw: st.DrawFn, students: int = 4, max_weeks: int = 14) -> CohortAnswers:
    """Small random cohorts: each week asks 1–3 skills; students answer some rounds, often low.

    Drawn in a few flat lists (not one draw per answer) so that each example is cheap."""
    weeks = draw(st.integers(1, max_weeks))
    shape = st.tuples(st.integers(1, 7), st.integers(0, 2**students - 1))
    masks = draw(st.lists(shape, min_size=weeks, max_size=weeks))
    leans = draw(st.lists(st.integers(1, 5), min_size=students, max_size=students))
    plan = [
        (week, tuple(k for i, k in enumerate(SKILLS) if sk >> i & 1),
         [sid for sid in range(students) if came >> sid & 1])
        for week, (sk, came) in enumerate(masks, start=1)
    ]  # fmt: skip
    size = sum(len(asked) * len(came) for _, asked, came in plan)
    # 1..5: that rating; 6..9: the student's own lean; 10, 11: the lean and a help request
    codes = iter(draw(st.lists(st.integers(1, 11), min_size=size, max_size=size)))
    talk = iter(draw(st.lists(st.booleans(), min_size=weeks * students, max_size=weeks * students)))
    pupils = frozenset(range(students))
    rounds, ratings, helps, words = [], [], [], []
    for week, asked, came in plan:
        rounds.append(ReflectionRound(week, asked, pupils, frozenset(came)))
        for sid in came:
            for skill in asked:
                code = next(codes)
                ratings.append(RatingAnswer(sid, week, skill, code if code <= 5 else leans[sid]))
                if code >= 10:
                    helps.append(HelpRequest(sid, week, skill))
            if next(talk):
                words.append(StudentWords(sid, week, f"tekst {sid} {week}"))
    return CohortAnswers(tuple(rounds), tuple(ratings), tuple(helps), tuple(words))


def gap_fps(data: CohortAnswers, s: GapSettings) -> set[str]:
    """Student and class gaps, counting students folded into a class gap as their own."""
    out = set()
    for f in evaluate(data, s):
        if f.kind in ("student_gap", "class_gap"):
            out.add(f.fingerprint)
        out |= {f"student_gap:{sid}:{f.skill}" for sid in folded_students(f)}
    return out


def with_rating(data: CohortAnswers, sid: int, week: int, skill: str, r: int) -> CohortAnswers:
    """``data`` plus one rating; the round of ``week`` then asked ``skill`` and heard ``sid``."""
    rounds = tuple(
        replace(x, skills=tuple(sorted({*x.skills, skill})), respondents=x.respondents | {sid})
        if x.week == week
        else x
        for x in data.rounds
    )
    rating = RatingAnswer(sid, week, skill, r)
    return replace(data, rounds=rounds, ratings=(*data.ratings, rating))


@FAST
@given(cohorts(), st.integers(0, 3), st.sampled_from(SKILLS), st.sampled_from(BOTH))
def test_a_new_latest_five_never_creates_a_gap(
    data: CohortAnswers, sid: int, skill: str, s: GapSettings
) -> None:
    week = data.rounds[-1].week + 1
    later = replace(
        data,
        rounds=(*data.rounds, ReflectionRound(week, (skill,), frozenset(range(4)), frozenset())),
    )
    assert gap_fps(with_rating(later, sid, week, skill, 5), s) <= gap_fps(later, s)


@FAST
@given(cohorts(), st.integers(0, 3), st.sampled_from(SKILLS), st.data(), st.sampled_from(BOTH))
def test_a_five_in_any_round_never_creates_a_gap(
    data: CohortAnswers, sid: int, skill: str, pick: st.DataObject, s: GapSettings
) -> None:
    week = pick.draw(st.sampled_from([r.week for r in data.rounds]))
    if any((a.student_id, a.week, a.skill) == (sid, week, skill) for a in data.ratings):
        return  # a second rating of the same ask is covered by the duplicates rule
    before, after = gap_fps(data, s), gap_fps(with_rating(data, sid, week, skill, 5), s)
    rated = sum((a.week, a.skill) == (week, skill) for a in data.ratings)
    if rated < s.class_min_students:
        # By design a round says something about the class only once enough students rated
        # the skill; the 5 that makes it count may reveal a class gap that was already there.
        before.add(f"class_gap:-:{skill}")
    assert after <= before


@FAST
@given(cohorts(), st.randoms(use_true_random=False), st.sampled_from(BOTH))
def test_order_of_answers_makes_no_difference(
    data: CohortAnswers, rnd: random.Random, s: GapSettings
) -> None:
    def shuffled(items: tuple) -> tuple:
        items = list(items)
        rnd.shuffle(items)
        return tuple(items)

    mixed = CohortAnswers(
        shuffled(data.rounds), shuffled(data.ratings), shuffled(data.helps), shuffled(data.words)
    )
    assert evaluate(mixed, s) == evaluate(data, s)


@FAST
@given(cohorts(), st.sampled_from(BOTH))
def test_findings_are_deterministic_and_evidence_is_from_the_data(
    data: CohortAnswers, s: GapSettings
) -> None:
    found = evaluate(data, s)
    copy = CohortAnswers(tuple(data.rounds), tuple(data.ratings), data.helps, data.words)
    assert evaluate(copy, s) == found  # a new snapshot object: no cached index
    weeks = {r.week for r in data.rounds}
    students = {r.student_id for r in data.ratings} | {h.student_id for h in data.helps}
    for f in found:
        assert (
            f.fingerprint
            == f"{f.kind}:{f.student_id if f.student_id is not None else '-'}:{f.skill or '-'}"
        )
        assert set(f.weeks) <= weeks and list(f.weeks) == sorted(f.weeks)
        assert {e.week for e in f.evidence} <= weeks
        assert {e.student_id for e in f.evidence} - {None} <= students | {f.student_id}
    assert len({f.fingerprint for f in found}) == len(found)


@FAST
@given(cohorts(students=5), st.sampled_from(BOTH))
def test_a_student_who_never_answers_is_never_a_gap(data: CohortAnswers, s: GapSettings) -> None:
    ghost = 4
    data = CohortAnswers(
        tuple(replace(r, respondents=r.respondents - {ghost}) for r in data.rounds),
        tuple(r for r in data.ratings if r.student_id != ghost),
        tuple(h for h in data.helps if h.student_id != ghost),
        tuple(w for w in data.words if w.student_id != ghost),
    )
    for f in evaluate(data, s):
        if f.kind != "silence":
            assert f.student_id != ghost and ghost not in folded_students(f)


# ----------------------------------------------------------------------------- lifecycle

FPS = ("student_gap:1:a", "class_gap:-:b", "silence:2:-", "decline:3:-")


@FAST
@given(
    st.lists(
        st.tuples(
            st.sets(st.sampled_from(FPS)),  # findings this round
            st.dictionaries(st.sampled_from(FPS), st.integers(0, 3)),  # ok streaks
            st.sampled_from(["none", "ack", "mute"]),  # what the mentors do afterwards
        ),
        max_size=25,
    )
)
def test_never_raised_twice_while_open(rounds: list[tuple[set[str], dict[str, int], str]]) -> None:
    states: list[AlertState] = []
    unresolved: set[str] = set()
    for index, (present, ok, reaction) in enumerate(rounds):
        found = [finding(fp) for fp in sorted(present)]
        actions = decide(states, found, index, ok)
        for a in actions:
            if isinstance(a, Raise):
                assert a.finding.fingerprint not in unresolved
                unresolved.add(a.finding.fingerprint)
            elif isinstance(a, Reraise):
                assert a.finding.fingerprint in unresolved
            else:
                unresolved.discard(a.fingerprint)
        fps = [a.fingerprint if isinstance(a, Resolve) else a.finding.fingerprint for a in actions]
        assert len(fps) == len(set(fps))  # at most one action per gap and round
        states = apply(states, actions, index, ok)
        if reaction == "ack":
            states = [acknowledge(x, index) if x.status == "open" else x for x in states]
        elif reaction == "mute":
            states = [mute(x, index) if x.status == "open" else x for x in states]


@FAST
@given(st.integers(0, 50), st.integers(0, 6), st.sampled_from(FPS))
def test_reraise_exactly_three_rounds_after_acknowledged(start: int, later: int, fp: str) -> None:
    state = acknowledge(AlertState(fp, "open", start), start)
    actions = decide([state], [finding(fp)], start + later, {fp: 0})
    assert (actions == [Reraise(finding(fp))]) == (later >= RERAISE_AFTER_ROUNDS)


@FAST
@given(st.lists(st.booleans(), max_size=12), st.sampled_from(FPS))
def test_resolve_after_two_ok_rounds(oks: list[bool], fp: str) -> None:
    """Feed a run of OK / low rounds; the gap resolves on the first round that ends 2 OK in a row
    (1 for a silence), and not before."""
    need = 1 if fp.startswith("silence") else 2
    state, streak = AlertState(fp, "open", 0), 0
    for index, ok in enumerate(oks, start=1):
        streak = streak + 1 if ok else 0
        actions = decide([state], [] if ok else [finding(fp)], index, {fp: streak})
        assert (Resolve(fp) in actions) == (streak >= need)
        if actions:
            break


@settings(max_examples=60, deadline=None)
@given(cohorts(max_weeks=10))
def test_rules_and_lifecycle_together_raise_each_gap_once(data: CohortAnswers) -> None:
    s, states, unresolved = GapSettings(), [], set()
    for n in range(1, len(data.rounds) + 1):
        weeks = {r.week for r in data.rounds[:n]}
        snap = CohortAnswers(
            data.rounds[:n],
            tuple(r for r in data.ratings if r.week in weeks),
            tuple(h for h in data.helps if h.week in weeks),
        )
        ok = ok_streaks([x.fingerprint for x in states if x.status != "resolved"], snap, s)
        actions = decide(states, evaluate(snap, s), n - 1, ok)
        for a in actions:
            if isinstance(a, Raise):
                assert a.finding.fingerprint not in unresolved
                unresolved.add(a.finding.fingerprint)
            elif isinstance(a, Resolve):
                unresolved.discard(a.fingerprint)
        states = apply(states, actions, n - 1, ok)
