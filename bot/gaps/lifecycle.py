"""Alert lifecycle: which findings become messages to the mentor team (pure, no I/O).

State machine of one alert, keyed by the finding's fingerprint; ``r`` is the index of the
latest closed reflection round (0, 1, 2, … in calendar order, holidays skipped)::

    (none) / resolved --finding present---------------------------> open       Raise
    open             --finding present----------------------------> open       (nothing)
    open             --mentor taps "Gezien" at r_a ----------------> acknowledged  (caller)
    acknowledged     --finding present and r >= r_a + 3 ----------> open       Reraise
    any but resolved --mentor taps "Stil 2 weken" at r_m ---------> muted until r_m + 2 (caller)
    muted            --r >= muted_until and finding present ------> open       Reraise
    muted            --r < muted_until ----------------------------> muted      (silent)
    open/ack./muted  --ok streak >= RESOLVE_OK_ROUNDS[kind] -------> resolved   Resolve

The ok streak is counted from stored answers (``bot.gaps.rules.ok_streaks``): for a student or class
gap, the latest rounds that asked the skill and were not low; for a blind spot, the latest
weeks with both views that no longer disagree; for a silence, rounds the student
answered (one is enough); for a decline, rounds in which the drop no longer shows. Resolution
is checked first, so a gap that got better is never re-raised, and it is allowed while muted
(a resolved gap is reported in the next digest, not as an alert). ``decide`` only proposes
actions; the caller stores them, e.g. with :func:`apply`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from bot.gaps.rules import Finding, parse_fingerprint

Status = Literal["open", "acknowledged", "muted", "resolved"]
RERAISE_AFTER_ROUNDS = 3
MUTE_ROUNDS = 2  # "Stil 2 weken": one reflection round per week
RESOLVE_OK_ROUNDS: dict[str, int] = {
    "student_gap": 2,
    "class_gap": 2,
    "blind_spot": 2,  # two weeks in a row in which both views no longer disagree
    "decline": 2,
    "silence": 1,
}


@dataclass(frozen=True)
class AlertState:
    """What is stored about one alert."""

    fingerprint: str
    status: Status
    raised_round_index: int
    acknowledged_at_round_index: int | None = None
    muted_until_round_index: int | None = None
    consecutive_ok_rounds: int = 0


@dataclass(frozen=True)
class Raise:
    """Send a new alert for this finding."""

    finding: Finding


@dataclass(frozen=True)
class Reraise:
    """Send the alert again: acknowledged (or muted) and still there."""

    finding: Finding


@dataclass(frozen=True)
class Resolve:
    """Mark the alert resolved; the next digest reports it."""

    fingerprint: str


Action = Raise | Reraise | Resolve
_ACTION_ORDER = {Resolve: 0, Reraise: 1, Raise: 2}


def resolve_after(fingerprint: str) -> int:
    """OK rounds in a row that resolve a gap of this fingerprint's kind."""
    return RESOLVE_OK_ROUNDS[parse_fingerprint(fingerprint)[0]]


def _decide_one(
    state: AlertState, finding: Finding | None, ok: int, round_index: int
) -> Action | None:
    """The action for one stored alert (``None``: stay as it is)."""
    if state.status == "resolved":
        return Raise(finding) if finding is not None else None
    if ok >= resolve_after(state.fingerprint):
        return Resolve(state.fingerprint)
    if finding is None:
        return None
    if state.status == "acknowledged":
        acked = state.acknowledged_at_round_index
        since = state.raised_round_index if acked is None else acked
        if round_index - since >= RERAISE_AFTER_ROUNDS:
            return Reraise(finding)
    if state.status == "muted":
        until = state.muted_until_round_index
        if until is None or round_index >= until:
            return Reraise(finding)
    return None


def _sort_key(action: Action) -> tuple[int, str]:
    fp = action.fingerprint if isinstance(action, Resolve) else action.finding.fingerprint
    return _ACTION_ORDER[type(action)], fp


def decide(
    alerts: Iterable[AlertState],
    findings: Sequence[Finding],
    round_index: int,
    ok_rounds: Mapping[str, int] | None = None,
) -> list[Action]:
    """Actions for the latest closed round ``round_index``, in a deterministic order.

    ``alerts``: the stored alert per fingerprint (at most one each; a later duplicate wins).
    ``findings``: ``bot.gaps.rules.evaluate`` on the answers up to and including that round.
    ``ok_rounds``: ``bot.gaps.rules.ok_streaks`` for the stored fingerprints; a missing entry falls
    back to the stored ``consecutive_ok_rounds``.
    """
    ok_rounds = ok_rounds or {}
    by_fp = {f.fingerprint: f for f in findings}
    states = {a.fingerprint: a for a in alerts}
    actions: list[Action] = []
    for fp, state in states.items():
        ok = ok_rounds.get(fp, state.consecutive_ok_rounds)
        action = _decide_one(state, by_fp.get(fp), ok, round_index)
        if action is not None:
            actions.append(action)
    actions += [Raise(f) for fp, f in by_fp.items() if fp not in states]
    return sorted(actions, key=_sort_key)


def apply(
    alerts: Iterable[AlertState],
    actions: Iterable[Action],
    round_index: int,
    ok_rounds: Mapping[str, int] | None = None,
) -> list[AlertState]:
    """The alert states after ``actions`` (what the caller would store), sorted by fingerprint."""
    states = {a.fingerprint: a for a in alerts}
    for action in actions:
        if isinstance(action, Resolve):
            states[action.fingerprint] = replace(states[action.fingerprint], status="resolved")
        else:
            fp = action.finding.fingerprint
            states[fp] = AlertState(fp, "open", round_index)
    for fp, ok in (ok_rounds or {}).items():
        if fp in states:
            states[fp] = replace(states[fp], consecutive_ok_rounds=ok)
    return [states[fp] for fp in sorted(states)]


def acknowledge(state: AlertState, round_index: int) -> AlertState:
    """The mentor tapped "Gezien" during/after round ``round_index``."""
    return replace(state, status="acknowledged", acknowledged_at_round_index=round_index)


def mute(state: AlertState, round_index: int, rounds: int = MUTE_ROUNDS) -> AlertState:
    """The mentor tapped "Stil 2 weken": silent until ``round_index + rounds``."""
    return replace(state, status="muted", muted_until_round_index=round_index + rounds)
