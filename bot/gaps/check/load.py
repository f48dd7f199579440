"""`gap_check`: what the check reads from the database, the cohort's closed part only when
its cache entry no longer holds (see `bot.gaps.check`)."""

from __future__ import annotations

from bot.gaps.cache import CohortCache, GapCache, cache_entry
from bot.gaps.check.incremental import GapCheck
from bot.gaps.cohort_data import (
    COUNTED_STATUSES,
    CohortData,
    gap_settings_of,
    snapshot_part,
)
from bot.gaps.rules import WorkplaceObservation
from bot.plans.store import plan_for
from storage.db import Session
from storage.records import CohortRecord
from storage.repos import MemberRepo
from storage.repos.answers_query import AnswersQuery
from storage.repos.gap_query import GapQuery, GapState
from storage.repos.observations import ObservationRepo
from storage.repos.rounds import RoundRepo


async def gap_check(
    session: Session, cohort_id: int, cache: GapCache | None = None
) -> GapCheck | None:
    """The cohort's gap check, reading only what changed since the last one
    (`bot.gaps.check`): the one statement (`GapQuery.state`) when the closed rounds are
    cached."""
    cache = GapCache() if cache is None else cache
    query = GapQuery(session)
    state = await query.state(cohort_id)
    if state.cohort is None:
        return None
    # keyed by the database, whichever connection the session runs on (a pooled one, the
    # kept reader of `Database.reading`, SQLite's writer): one entry per cohort
    engine = getattr(session.bind, "engine", session.bind)
    cache_key = (str(getattr(engine, "url", id(engine))), cohort_id)
    entry = cache.get(cache_key)
    if entry is None or entry.key != _key(state):
        entry, state = await _load_consistent(session, query, state)
        if state.cohort is None:  # deleted meanwhile
            return None
    cache.put(cache_key, entry)
    rounds = sorted(entry.data.rounds + state.open_reflections, key=lambda r: (r.week, r.id))
    completed: dict[int, set[int]] = {}
    for round_id, member_id, done in state.taking:
        if done:
            completed.setdefault(round_id, set()).add(member_id)
    plan = entry.data.plan
    open_part = snapshot_part(plan, state.open_reflections, state.answers, completed, {},
                              entry.active)  # fmt: skip
    observed = tuple(WorkplaceObservation(sid, week, skill, level, wb)
                     for week, _id, sid, skill, level, wb in state.observed)  # fmt: skip
    return GapCheck(entry, open_part, rounds, observed, state)


def _key(state: GapState) -> tuple[object, ...]:
    """What the kept part depends on: the cohort row (plan, settings) and its change counter
    (closed rounds, their rows, the members: bumped by the database, migration 0008)."""
    return (state.cohort, state.version)


async def _load_consistent(
    session: Session, query: GapQuery, state: GapState
) -> tuple[CohortCache, GapState]:
    """The closed part read afresh, with a state read after it under the same counter: on
    PostgreSQL each statement sees the latest commits, so a round closed between the reads
    would be both kept and open; the counter read again tells (SQLite's snapshot holds)."""
    for _attempt in range(3):
        assert state.cohort is not None
        open_ids = {r.id for r in state.open_reflections}
        entry = await _load_closed(session, state.cohort, open_ids, _key(state))
        again = await query.state(state.cohort.id)
        if again.cohort is None or _key(again) == _key(state):
            return entry, again
        state = again
    entry.key = ()  # still changing under us: this check uses it, the next one reads again
    return entry, state


async def _load_closed(
    session: Session,
    cohort: CohortRecord,
    open_ids: set[int],
    key: tuple[object, ...],
) -> CohortCache:
    plan = await plan_for(session, cohort)
    students = {m.id: m for m in await MemberRepo(session).in_cohort(cohort.id, "student")}
    active = {sid for sid, m in students.items() if m.status == "active"}
    query = AnswersQuery(session)
    reflections = await RoundRepo(session).of_cohort(cohort.id, "reflection")
    # the counted rounds not open (`open_ids`: those the check reads each time)
    closed_rounds = [
        r for r in reflections if r.status in COUNTED_STATUSES and not r.is_open
        and r.id not in open_ids
    ]  # fmt: skip
    ids = [r.id for r in closed_rounds]
    completed: dict[int, set[int]] = {}
    enrolled: dict[int, set[int]] = {}
    for round_id, member_id, done in await query.participation_rows(ids):
        enrolled.setdefault(round_id, set()).add(member_id)
        if done:
            completed.setdefault(round_id, set()).add(member_id)
    part = snapshot_part(plan, closed_rounds, await query.answer_rows(ids), completed,
                         enrolled, active)  # fmt: skip
    levels = await ObservationRepo(session).closed_levels(cohort.id)
    data = CohortData(cohort, plan, closed_rounds, [], {}, {}, students)
    observed = (WorkplaceObservation(*row) for row in levels)
    entry = cache_entry(key, data, gap_settings_of(cohort), part, observed)
    entry.active = active
    return entry
