"""Where the student's view and the workplace's view disagree (pure, no I/O).

* **Blinde vlek** (an alert, kind ``blind_spot``): the student rates a skill high (4–5) while
  her werkbegeleider says nooit or oefenen, in ``blind_spot_needed`` of the last
  ``blind_spot_window`` weeks that had both views, the latest of them included, and the
  workplace's points over those weeks reach ``blind_spot_threshold`` (oefenen three times,
  or nooit twice); resolved by
  ``resolve_ok_asks`` weeks in a row in which the two views no longer disagree that way.
* **Strenger voor zichzelf** (a digest line, never an alert): the reverse, the student rates
  low (or asks for help) while the workplace says voldoende or goed, with the same counts.

Only weeks with both views count: a week the workplace did not see says nothing about the
difference. docs/gap-rules.md "Two views" explains the choice.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.gaps.model import (
    OBSERVATION_LEVELS,
    AnswerIndex,
    Ask,
    CohortAnswers,
    Evidence,
    Finding,
    GapSettings,
    fingerprint_of,
    index_answers,
    is_low,
    open_since,
)


def _paired(idx: AnswerIndex, sid: int, skill: str) -> list[Ask]:
    """The weeks of one student and skill with both a rating and an observation."""
    return [
        a for a in idx.both.get((sid, skill), []) if a.rating is not None and a.observed is not None
    ]


def _too_high(a: Ask, s: GapSettings) -> bool:
    assert a.rating is not None and a.observed is not None
    return a.rating >= s.blind_spot_min_rating and a.observed <= s.blind_spot_max_level


def _too_low(a: Ask, s: GapSettings) -> bool:
    assert a.observed is not None
    return is_low(a, s) and a.observed > s.blind_spot_max_level


def blind_spot_flags(idx: AnswerIndex, sid: int, skill: str, s: GapSettings) -> list[bool]:
    """Per week with both views, oldest first: did the student rate high where the workplace
    saw nooit/oefenen?"""
    return [_too_high(a, s) for a in _paired(idx, sid, skill)]


def _scan(flags: list[bool], s: GapSettings, work: list[int] | None = None) -> int | None:
    """``work``: the workplace's points per week; when given, they must reach
    ``blind_spot_threshold`` over the window, or a level-3 student who taps a 4 in weeks the
    werkbegeleider happens to say oefenen would look like a blind spot."""

    def trigger(lo: int, hi: int) -> bool:
        strong = work is None or sum(work[lo:hi]) >= s.blind_spot_threshold
        return strong and sum(flags[lo:hi]) >= s.blind_spot_needed

    ok = [not f for f in flags]
    return open_since(ok, s.blind_spot_window, s.resolve_ok_asks, trigger)


def _evidence(sid: int, skill: str, pairs: list[Ask], idx: AnswerIndex) -> tuple[Evidence, ...]:
    out: list[Evidence] = []
    for a in pairs:
        assert a.observed is not None
        note = f"rating {a.rating}, workplace {OBSERVATION_LEVELS[a.observed]}"
        out.append(Evidence(a.week, sid, skill, a.rating, None, note, a.observed))
        out += [Evidence(a.week, sid, None, None, t, "words") for t in idx.words[(sid, a.week)]]
    return tuple(out)


def blind_spot_findings(idx: AnswerIndex, settings: GapSettings) -> list[Finding]:
    """Blinde vlekken: one finding per student and skill, evidence of the latest 8 weeks."""
    found = []
    for sid, skill in sorted(idx.both):
        pairs = _paired(idx, sid, skill)
        work = [settings.observation_points[a.observed or 0] for a in pairs]
        first = _scan([_too_high(a, settings) for a in pairs], settings, work)
        if first is None:
            continue
        window = pairs[first:][-8:]
        ev = _evidence(sid, skill, window, idx)
        fp = fingerprint_of("blind_spot", sid, skill)
        found.append(Finding("blind_spot", sid, skill, tuple(a.week for a in window), ev, fp))
    return found


def find_blind_spots(data: CohortAnswers, settings: GapSettings) -> list[Finding]:
    """Students who rate a skill high where the workplace repeatedly sees nooit/oefenen."""
    return blind_spot_findings(index_answers(data), settings)


@dataclass(frozen=True)
class StricterForSelf:
    """A student who rates a skill low where the workplace sees voldoende/goed: a digest line."""

    student_id: int
    skill: str
    weeks: tuple[int, ...]
    ratings: tuple[int | None, ...]
    observed: tuple[int, ...]


def stricter_for_self(data: CohortAnswers, settings: GapSettings) -> list[StricterForSelf]:
    """The students stricter for themselves than their workplace, by student and skill."""
    idx = index_answers(data)
    out = []
    for sid, skill in sorted(idx.both):
        series = [a for a in idx.both[(sid, skill)] if a.observed is not None]
        series = [a for a in series if a.rating is not None or a.help]
        first = _scan([_too_low(a, settings) for a in series], settings)
        if first is None:
            continue
        window = series[first:][-4:]
        out.append(
            StricterForSelf(
                sid,
                skill,
                tuple(a.week for a in window),
                tuple(a.rating for a in window),
                tuple(a.observed for a in window if a.observed is not None),
            )
        )
    return out
