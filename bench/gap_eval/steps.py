"""One sample's steps: a student completes her week (untimed), the check timed, and the baseline
(the whole cohort reloaded as before) with the per-answer path's view to compare it with."""

from __future__ import annotations

import random
import time
from datetime import timedelta

from bench._common import (
    START,
)


async def complete_one(db, round_id: int, member_id: int, week: int, observed=None) -> None:  # type: ignore[no-untyped-def]
    """What `checkin.save_choice` leaves behind for a student who finishes week `week`, and
    (`observed`: the open observation round and the werkbegeleider) her werkbegeleider's taps."""
    from bot.plans import default_plan
    from storage.repos.observations import ObservationRepo
    from storage.repos.rounds import AnswerRepo, RoundRepo

    now = START + timedelta(weeks=week - 1, hours=2)
    rng = random.Random(member_id)
    async with db.transaction() as s:
        answers = AnswerRepo(s)
        for q in default_plan().week(week).questions:
            if q.kind == "rating":
                await answers.save(round_id, member_id, q.key, kind="rating", skill=q.skill,
                                   now=now, rating=rng.choice((2, 3, 3, 4, 4, 5)))  # fmt: skip
            elif q.kind == "choice":
                await answers.save(round_id, member_id, q.key, kind="choice", skill=None,
                                   now=now, choice=q.options[-1].value)  # fmt: skip
            elif not q.optional:
                await answers.save(round_id, member_id, q.key, kind="text", skill=None,
                                   now=now, text="Vandaag ging het goed.")  # fmt: skip
        await RoundRepo(s).mark_completed(round_id, member_id, now)
        if observed is not None:
            obs_round, wb = observed
            for q in default_plan().week(week).questions:
                if q.kind == "rating" and q.skill:
                    await ObservationRepo(s).save(obs_round, wb, member_id, q.skill,
                                                  level=rng.choice((1, 2, 2, 3)), text=None,
                                                  now=now)  # fmt: skip


async def evaluate(db, cohort_id: int, now, cache) -> float:  # type: ignore[no-untyped-def]
    """One alert check as `Services.evaluate_alerts` runs it (with the process's gap cache):
    `check_alerts`, the rules and the agreements' outcomes, then the cache's `settle` (a
    new entry frozen: only the cold checks pay for it); returns the seconds taken."""
    from bot.loop.followup import check_alerts

    start = time.perf_counter()
    try:
        await check_alerts(db, cohort_id, now, cache)
    finally:
        cache.settle()
    return time.perf_counter() - start


async def full_reload(db, cohort_id: int):  # type: ignore[no-untyped-def]
    """The computation as it was before the per-answer path: load the whole cohort, build the
    snapshot, run every rule and the ok streaks of every finding and stored alert.
    Returns (seconds, active findings, ok streaks)."""
    from bot.gaps import rules as gaps
    from bot.gaps.cohort_data import gap_settings_of, load_cohort_data
    from storage.repos.alerts import AlertRepo

    start = time.perf_counter()
    async with db.transaction() as s:
        data = await load_cohort_data(s, cohort_id)
        stored = [a.fingerprint for a in await AlertRepo(s).unresolved(cohort_id)]
    assert data is not None
    settings = gap_settings_of(data.cohort)
    snapshot = data.cohort_answers()
    active = {m.id for m in data.students.values() if m.is_active}
    findings = [
        f
        for f in gaps.evaluate(snapshot, settings)
        if f.student_id is None or f.student_id in active
    ]
    fps = sorted({*stored, *(f.fingerprint for f in findings)})
    ok = gaps.ok_streaks(fps, snapshot, settings)
    return time.perf_counter() - start, findings, ok


async def fast_view(db, cohort_id: int, cache):  # type: ignore[no-untyped-def]
    """What the per-answer path decides from: its findings and ok streaks."""
    from bot.gaps.check import gap_check
    from storage.repos.alerts import AlertRepo

    async with db.transaction() as s:
        check = await gap_check(s, cohort_id, cache)
        stored = [a.fingerprint for a in await AlertRepo(s).unresolved(cohort_id)]
    assert check is not None
    active = {m.id for m in check.data.students.values() if m.is_active}
    findings = [f for f in check.findings() if f.student_id is None or f.student_id in active]
    fps = sorted({*stored, *(f.fingerprint for f in findings)})
    return findings, check.ok_streaks(fps)
