"""Alert lifecycle: raise once, re-raise 3 rounds after "Gezien", mute, resolve."""

from __future__ import annotations

from typing import cast

from bot.gaps.lifecycle import (
    AlertState,
    Raise,
    Reraise,
    Resolve,
    acknowledge,
    apply,
    decide,
    mute,
)
from bot.gaps.rules import Finding, Kind, parse_fingerprint


def finding(fp: str = "student_gap:1:s") -> Finding:
    kind, student, skill = parse_fingerprint(fp)
    return Finding(cast(Kind, kind), student, skill, (1,), (), fp)


def test_new_finding_is_raised_once() -> None:
    f = finding()
    assert decide([], [f], 0) == [Raise(f)]
    states = apply([], [Raise(f)], 0)
    assert states == [AlertState(f.fingerprint, "open", 0)]
    assert decide(states, [f], 1) == []  # never twice while open
    assert decide(states, [], 2) == []  # gone from the findings, not resolved: stays open


def test_acknowledged_gap_is_raised_again_after_three_rounds() -> None:
    f = finding()
    state = acknowledge(AlertState(f.fingerprint, "open", 4), 5)
    assert decide([state], [f], 6) == []
    assert decide([state], [f], 7) == []
    assert decide([state], [f], 8) == [Reraise(f)]
    assert decide([state], [], 8) == []  # not there now: nothing to raise
    [again] = apply([state], [Reraise(f)], 8)
    assert (again.status, again.raised_round_index, again.acknowledged_at_round_index) == (
        "open", 8, None,
    )  # fmt: skip


def test_muted_is_silent_until_the_mute_ends() -> None:
    f = finding()
    state = mute(AlertState(f.fingerprint, "open", 3), 3)
    assert state.muted_until_round_index == 5
    assert decide([state], [f], 4) == []
    assert decide([state], [f], 5) == [Reraise(f)]
    assert decide([state], [], 5) == []


def test_resolve_after_two_ok_rounds_and_silence_after_one() -> None:
    f = finding()
    state = AlertState(f.fingerprint, "open", 0)
    assert decide([state], [], 3, {f.fingerprint: 1}) == []
    assert decide([state], [], 3, {f.fingerprint: 2}) == [Resolve(f.fingerprint)]
    silent = AlertState("silence:2:-", "acknowledged", 0, acknowledged_at_round_index=0)
    assert decide([silent], [], 1, {"silence:2:-": 1}) == [Resolve("silence:2:-")]


def test_resolution_wins_over_reraise_and_mute() -> None:
    f = finding()
    acked = acknowledge(AlertState(f.fingerprint, "open", 0), 0)
    assert decide([acked], [f], 9, {f.fingerprint: 2}) == [Resolve(f.fingerprint)]
    muted = mute(AlertState(f.fingerprint, "open", 0), 0)
    assert decide([muted], [], 1, {f.fingerprint: 2}) == [Resolve(f.fingerprint)]


def test_stored_ok_count_is_used_when_none_is_given() -> None:
    state = AlertState("class_gap:-:s", "open", 0, consecutive_ok_rounds=2)
    assert decide([state], [], 4) == [Resolve("class_gap:-:s")]


def test_a_resolved_gap_that_comes_back_is_raised_as_new() -> None:
    f = finding()
    state = AlertState(f.fingerprint, "resolved", 0)
    assert decide([state], [f], 7) == [Raise(f)]
    assert decide([state], [], 7) == []


def test_actions_come_in_a_fixed_order() -> None:
    a, b, c = finding("student_gap:1:a"), finding("student_gap:2:b"), finding("silence:3:-")
    states = [
        acknowledge(AlertState(b.fingerprint, "open", 0), 0),
        AlertState(c.fingerprint, "open", 0),
    ]
    actions = decide(states, [b, a], 3, {c.fingerprint: 1})
    assert actions == [Resolve(c.fingerprint), Reraise(b), Raise(a)]
