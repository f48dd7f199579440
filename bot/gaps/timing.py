"""Gap rules over time: students who fell silent, and students whose ratings declined.

Pure functions over a ``CohortAnswers`` snapshot; ``bot.gaps.rules`` re-exports the public ones.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from bot.gaps.model import (
    AnswerIndex,
    CohortAnswers,
    Evidence,
    Finding,
    GapSettings,
    fingerprint_of,
    index_answers,
    trailing_run,
)

# ----------------------------------------------------------------------------- silence


def silence_needed(answered: int, total: int, settings: GapSettings) -> int:
    """Unanswered rounds in a row that make a silence, given the record before them.

    spec: ``silence_rounds``. evidence: a student who has answered nothing since joining
    needs ``silence_rounds`` (2): there is no habit of skipping to allow for. Otherwise the
    fewest k >= ``silence_rounds`` for which a student who still takes part, missing rounds at
    her own rate m, misses k in a row with a chance m^k of at most ``silence_max_chance``,
    but never more than ``silence_max_rounds`` (3): a missed round is a fact, not noise, and
    a month of silence is too long to wait for. m is her record with a prior of
    ``silence_prior_rate`` over ``silence_prior_rounds`` rounds.
    """
    k = settings.silence_rounds
    if settings.mode == "spec" or answered == 0:
        return k
    prior = settings.silence_prior_rounds
    rate = (total - answered + settings.silence_prior_rate * prior) / (total + prior)
    while rate**k > settings.silence_max_chance and k < settings.silence_max_rounds:
        k += 1
    return k


def silence_findings(idx: AnswerIndex, settings: GapSettings) -> list[Finding]:
    found = []
    students = {sid for sid, _ in idx.asks}.union(*(r.enrolled for r in idx.rounds))
    for sid in sorted(students):
        mine = [r for r in idx.rounds if sid in r.enrolled]
        cut = len(mine) - trailing_run(sid not in r.respondents for r in mine)
        before, missed = mine[:cut], [r.week for r in mine[cut:]]
        answered = sum(sid in r.respondents for r in before)
        if missed and len(missed) >= silence_needed(answered, len(before), settings):
            note = f"no answer (answered {answered} of {len(before)} rounds before)"
            ev = tuple(Evidence(w, sid, None, None, None, note) for w in missed)
            fp = fingerprint_of("silence", sid, None)
            found.append(Finding("silence", sid, None, tuple(missed), ev, fp))
    return found


def find_silences(data: CohortAnswers, settings: GapSettings) -> list[Finding]:
    """Students who left the last rounds unanswered (only the rounds passed in count)."""
    return silence_findings(index_answers(data), settings)


# ----------------------------------------------------------------------------- decline


def decline_at(idx: AnswerIndex, sid: int, n: int, s: GapSettings) -> tuple[list[int], str] | None:
    """Decline test on the student's first ``n`` answered rounds: (weeks, summary) or None.

    spec: the mean of the last ``decline_window`` rounds is at least ``decline_delta`` below
    the mean of the ``decline_window`` rounds before.
    evidence: each rating of the last ``decline_recent_rounds`` rounds is compared with the
    student's own mean on the same skill over up to ``decline_baseline_rounds`` rounds before;
    the mean difference is at least ``decline_paired_delta`` down. Pairing by skill takes the
    mix of skills of the weeks out of the comparison; the long windows average the noise.
    """
    per_week = idx.by_student_week.get(sid, {})
    weeks = sorted(per_week)[:n]
    recent, base_n = (s.decline_window, s.decline_window) if s.mode == "spec" else (
        s.decline_recent_rounds, s.decline_baseline_rounds
    )  # fmt: skip
    if len(weeks) < 2 * recent:
        return None
    new, old = weeks[-recent:], weeks[-recent - base_n : -recent]
    span = f"weeks {new[0]}-{new[-1]} against weeks {old[0]}-{old[-1]}"
    if s.mode == "spec":
        now = statistics.fmean(r for wk in new for _, r in per_week[wk])
        before = statistics.fmean(r for wk in old for _, r in per_week[wk])
        # round(): 4 - 3 must be a drop of exactly 1.0, not 0.999…
        hit = round(before - now, 9) >= s.decline_delta
        return (old + new, f"mean {now:.2f} against {before:.2f} ({span})") if hit else None
    base: dict[str, list[int]] = defaultdict(list)
    for wk in old:
        for skill, r in per_week[wk]:
            base[skill].append(r)
    diffs = [r - statistics.fmean(base[k]) for wk in new for k, r in per_week[wk] if k in base]
    if len(diffs) < recent or round(statistics.fmean(diffs), 9) > -s.decline_paired_delta:
        return None
    note = f"mean {statistics.fmean(diffs):+.2f} against own earlier ratings of the same skills"
    return old + new, f"{note} ({span})"


def skill_drops(
    per_week: dict[int, list[tuple[str, int]]], old: list[int], new: list[int]
) -> list[tuple[str, float]]:
    """Per skill rated in both spans: its mean now minus its mean before, biggest drop first.

    A decline is told per skill (one skill's asks before and now), never as week means over
    different skills: a week that asks only hard skills would look like a decline."""
    before: dict[str, list[int]] = defaultdict(list)
    now: dict[str, list[int]] = defaultdict(list)
    for weeks, into in ((old, before), (new, now)):
        for wk in weeks:
            for skill, r in per_week[wk]:
                into[skill].append(r)
    drops = [
        (k, statistics.fmean(now[k]) - statistics.fmean(before[k])) for k in now if k in before
    ]
    return sorted(drops, key=lambda d: (round(d[1], 9), d[0]))


def decline_findings(idx: AnswerIndex, settings: GapSettings) -> list[Finding]:
    found = []
    for sid, per_week in sorted(idx.by_student_week.items()):
        hit = decline_at(idx, sid, len(per_week), settings)
        if hit:
            weeks, summary = hit
            recent = settings.decline_window if settings.mode == "spec" else (
                settings.decline_recent_rounds
            )  # fmt: skip
            new, old = weeks[-recent:], weeks[:-recent]
            drops = [d for d in skill_drops(per_week, old, new) if d[1] < 0]
            skill = drops[0][0] if drops else None
            ev = [
                Evidence(wk, sid, k, r, None, "rating now" if wk in new else "rating before")
                for wk in weeks
                for k, r in per_week[wk]
            ]
            # the skill that dropped most is named on the summary line; the finding stays one
            # per student, so a change of which skill dropped most never raises it twice
            ev.append(Evidence(weeks[-1], sid, skill, None, None, summary))
            fp = fingerprint_of("decline", sid, None)
            found.append(Finding("decline", sid, None, tuple(weeks), tuple(ev), fp))
    return found


def find_declines(data: CohortAnswers, settings: GapSettings) -> list[Finding]:
    """Students whose ratings dropped as a whole (all skills together)."""
    return decline_findings(index_answers(data), settings)
