"""The per-answer gap check: the cohort's closed rounds cached in process, the rules re-run
only for the students and skills an answer changed (same findings as a full evaluation)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.gaps import rules as gaps
from bot.gaps.cache import (
    CohortCache,
    GapCache,
    Memo,
    Mine,
    by_student,
    cache_entry,
)
from bot.gaps.cohort_data import (
    COUNTED_STATUSES,
    CohortData,
    SnapshotPart,
    gap_settings_of,
    snapshot_part,
)
from bot.gaps.evidence import ClassAsk, class_finding
from bot.gaps.model import index_answers, trailing_run
from bot.gaps.rules import (
    CohortAnswers,
    Finding,
    HelpRequest,
    RatingAnswer,
    ReflectionRound,
    WorkplaceObservation,
)
from bot.plans.store import plan_for
from storage.db import Session
from storage.records import CohortRecord, MemberRecord, RoundRecord
from storage.repos import CohortRepo, MemberRepo
from storage.repos.answers_query import AnswersQuery
from storage.repos.observations import ObservationRepo

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- gap check

# The check after each completed reflection (`bot.gaps.alerts.evaluate_cohort`) must stay fast for
# a cohort with a year of answers. Answers change only in open rounds (`checkin.save_choice`
# refuses closed ones), so the closed rounds' part of the snapshot is kept per cohort and
# reused while a cheap key — the cohort row, its counted rounds, its students and the row
# counts of the closed rounds — is unchanged; only the open rounds are read each time. The
# rules are then run per student (student gaps, declines, silences look at one student's
# answers only) and per skill (class gaps look at one skill's answers only), each again only
# when its part of the snapshot changed. The findings are those of `gaps.evaluate` on the
# whole snapshot (bench/gap_eval.py checks that on 400 cohorts).

_STUDENT_KINDS = ("student_gap", "blind_spot", "decline", "silence")


def _asked(ratings: list[RatingAnswer], helps: list[HelpRequest]) -> set[tuple[int, int]]:
    return {(r.student_id, r.week) for r in ratings} | {(h.student_id, h.week) for h in helps}


class GapCheck:
    """The gap findings of one cohort now, as `gaps.evaluate` would give them on
    `CohortData.cohort_answers()`, and `ok_streak` for stored fingerprints."""

    def __init__(
        self,
        entry: CohortCache,
        open_part: SnapshotPart,
        rounds: list[RoundRecord],
        observations: tuple[WorkplaceObservation, ...] = (),
    ):
        self.entry = entry
        # the workplace's view is read afresh each time (one small query): a tap may change
        # until its round closes, and its rounds are not the reflection rounds cached here
        self._observed: dict[int, list[WorkplaceObservation]] = {}
        self._observed_skill: dict[str, list[WorkplaceObservation]] = {}
        for o in observations:
            self._observed.setdefault(o.student_id, []).append(o)
            self._observed_skill.setdefault(o.skill, []).append(o)
        self.data = entry.data
        self.settings = entry.settings
        self._open = open_part
        self._open_ids = [r.id for r in rounds if r.id in open_part.rounds]
        self._views = [entry.closed.rounds.get(r.id) or open_part.rounds[r.id] for r in rounds]
        self._open_by_student = by_student(open_part)

    # -- per student -----------------------------------------------------------------------

    def _student(self, sid: int) -> Memo:
        open_views = [self._open.rounds[i] for i in self._open_ids]
        mine = self._open_by_student.get(sid, Mine())
        observed = tuple(self._observed.get(sid, ()))
        signature = (
            tuple((v.week, sid in v.enrolled, sid in v.respondents) for v in open_views),
            mine.signature(),
            observed,
        )
        memo = self.entry.students.get(sid)
        if memo is not None and memo.signature == signature:
            return memo
        one = frozenset((sid,))
        empty: frozenset[int] = frozenset()
        closed = self.entry.closed_by_student.get(sid, Mine())
        snapshot = CohortAnswers(
            tuple(
                ReflectionRound(
                    v.week,
                    v.skills,
                    one if sid in v.enrolled else empty,
                    one if sid in v.respondents else empty,
                )
                for v in self._views
            ),
            tuple(closed.ratings + mine.ratings),
            tuple(closed.helps + mine.helps),
            tuple(closed.words + mine.words),
            observed,
        )
        findings = [
            f
            for f in gaps.evaluate(snapshot, self.entry.student_settings)
            if f.kind in _STUDENT_KINDS and f.student_id == sid
        ]
        memo = self.entry.students[sid] = Memo(signature, findings, {}, snapshot)
        return memo

    # -- per skill -------------------------------------------------------------------------

    def _skill(self, skill: str) -> Memo:
        ratings = [r for r in self._open.ratings if r.skill == skill]
        helps = [h for h in self._open.helps if h.skill == skill]
        open_views = [
            self._open.rounds[i] for i in self._open_ids if skill in self._open.rounds[i].skills
        ]
        asked_now = _asked(ratings, helps)
        open_words = tuple(w for w in self._open.words if (w.student_id, w.week) in asked_now)
        observed = tuple(self._observed_skill.get(skill, ()))
        signature = (tuple(open_views), tuple(ratings), tuple(helps), open_words, observed)
        memo = self.entry.skills.get(skill)
        if memo is not None and memo.signature == signature:
            return memo
        closed = self.entry.closed_by_skill.get(skill, Mine())
        all_ratings, all_helps = closed.ratings + ratings, closed.helps + helps
        # a class gap looks only at the rounds that asked its skill
        asking = tuple(v for v in self._views if skill in v.skills)
        snapshot = CohortAnswers(
            asking, tuple(all_ratings), tuple(all_helps), observations=observed
        )
        asks = self._class_asks(skill, open_views, ratings, helps)
        if asks is None:  # an open round shares its week with a closed one: all afresh
            asks = gaps.class_asks(index_answers(snapshot), skill, self.settings)
        finding = class_finding(skill, asks, self.settings)
        findings = [] if finding is None else [finding]
        if findings and self.settings.fold_into_class:
            # the class finding names the students with their own gap on the skill, with
            # their words: the student rule on this skill's answers (the rounds that asked
            # it, the words of those asks) gives them, folded in as `gaps.evaluate` folds
            asked = _asked(all_ratings, all_helps)
            closed_words = self.entry.closed_words
            words = [w for pair in sorted(asked) for w in closed_words.get(pair, ())]
            words += [w for w in self._open.words if (w.student_id, w.week) in asked]
            # the folded student gaps weigh both views, as in the full evaluation
            with_words = CohortAnswers(
                asking, snapshot.ratings, snapshot.helps, tuple(words), observed
            )
            theirs = [f for f in gaps.find_student_gaps(with_words, self.settings)
                      if f.skill == skill]  # fmt: skip
            findings = [gaps.fold_students(findings[0], theirs)]
        memo = self.entry.skills[skill] = Memo(signature, findings, {}, snapshot, asks)
        return memo

    def _class_asks(
        self,
        skill: str,
        open_views: list[ReflectionRound],
        ratings: list[RatingAnswer],
        helps: list[HelpRequest],
    ) -> list[ClassAsk] | None:
        """The skill's class asks, oldest first: the closed rounds' kept in the cache entry
        (computed once), only the open rounds' computed now. An ask is keyed by week, so this
        holds only while no open round shares a week with a closed one (None then)."""
        closed_weeks = {v.week for v in self.entry.closed.rounds.values()}
        if any(v.week in closed_weeks for v in open_views):
            return None
        kept = self.entry.closed_asks.get(skill)
        if kept is None:
            mine = self.entry.closed_by_skill.get(skill, Mine())
            views = tuple(v for v in self.entry.closed.rounds.values() if skill in v.skills)
            closed = CohortAnswers(views, tuple(mine.ratings), tuple(mine.helps))
            kept = gaps.class_asks(index_answers(closed), skill, self.settings)
            self.entry.closed_asks[skill] = kept
        now = CohortAnswers(tuple(open_views), tuple(ratings), tuple(helps))
        fresh = gaps.class_asks(index_answers(now), skill, self.settings)
        # by week, as the full evaluation orders rounds (a stable sort: ties keep their order)
        return sorted(kept + fresh, key=lambda a: a.week)

    # -- the whole cohort ------------------------------------------------------------------

    def students(self) -> list[int]:
        seen: set[int] = set()
        for v in self._views:
            seen |= v.enrolled | v.respondents
        seen.update(self.entry.closed_by_student)
        seen.update(self._open_by_student)
        seen.update(self._observed)
        return sorted(seen)

    def skills(self) -> list[str]:
        found: set[str] = set()
        for v in self._views:
            found.update(v.skills)
        found.update(self.entry.closed_by_skill)
        found.update(r.skill for r in self._open.ratings)
        found.update(h.skill for h in self._open.helps)
        found.update(self._observed_skill)
        return sorted(found)

    def findings(self) -> list[Finding]:
        """`gaps.evaluate` of the cohort's snapshot."""
        classes = [f for skill in self.skills() for f in self._skill(skill).findings]
        folded = {c.skill for c in classes} if self.settings.fold_into_class else set()
        per_student = [
            f
            for sid in self.students()
            for f in self._student(sid).findings
            if not (f.kind == "student_gap" and f.skill in folded)
        ]
        return sorted(classes + per_student, key=gaps.finding_order)

    def ok_streaks(self, fingerprints: Iterable[str]) -> dict[str, int]:
        """`gaps.ok_streaks` of the cohort's snapshot for these fingerprints."""
        out: dict[str, int] = {}
        for fp in fingerprints:
            kind, sid, skill = gaps.parse_fingerprint(fp)
            if kind == "class_gap" and skill is not None:
                memo = self._skill(skill)
            elif kind in _STUDENT_KINDS and sid is not None:
                memo = self._student(sid)
            else:
                memo = None
            if memo is None:  # what gaps.ok_streaks makes of it (an error)
                out.update(gaps.ok_streaks([fp], CohortAnswers(tuple(self._views), ()),
                                           self.settings))  # fmt: skip
                continue
            if fp in memo.ok:
                pass
            elif kind == "class_gap" and memo.class_asks is not None:
                # what gaps.ok_streaks counts for a class gap, from the asks already at hand
                memo.ok[fp] = trailing_run(
                    not gaps.class_ask_low(a, self.settings) for a in memo.class_asks
                )
            else:
                memo.ok.update(gaps.ok_streaks([fp], memo.snapshot, self.settings))
            out[fp] = memo.ok[fp]
        return out


async def gap_check(
    session: Session, cohort_id: int, cache: GapCache | None = None
) -> GapCheck | None:
    """The cohort's gap check, reading only what changed since the last one (see above)."""
    cache = GapCache() if cache is None else cache
    cohort = await CohortRepo(session).get(cohort_id)
    if cohort is None:
        return None
    query = AnswersQuery(session)
    counted = await query.rounds_in(cohort_id, "reflection", COUNTED_STATUSES)
    rounds = [r for r, _answers, _taking in counted]
    students = {m.id: m for m in await MemberRepo(session).in_cohort(cohort_id, "student")}
    open_ids = [r.id for r in rounds if r.is_open]
    closed_rounds = [r for r in rounds if not r.is_open]
    # an open round's rows change with every answer; they are read afresh anyway (and so
    # is the workplace's view, below: its rounds are not these)
    key = (cohort, tuple(c if not c[0].is_open else c[0] for c in counted),
           tuple(students.values()))  # fmt: skip
    bind = session.bind
    cache_key = (str(getattr(bind, "url", id(bind))), cohort_id)
    entry = cache.get(cache_key)
    active = {m.id for m in students.values() if m.status == "active"}
    if entry is None or entry.key != key:
        entry = await _load_closed(session, cohort, rounds, closed_rounds, students, active, key)
    cache.put(cache_key, entry)
    open_rounds = [r for r in rounds if r.is_open]
    completed: dict[int, set[int]] = {}
    taking, open_answers = await query.round_rows(open_ids)
    for round_id, member_id, done in taking:
        if done:
            completed.setdefault(round_id, set()).add(member_id)
    open_part = snapshot_part(entry.data.plan, open_rounds, open_answers, completed, {}, active)
    # what `workplace_view` keeps of the cohort's observations, read as plain columns
    levels = await ObservationRepo(session).levels_of_cohort(cohort_id)
    observed = tuple(WorkplaceObservation(*row) for row in levels)
    return GapCheck(entry, open_part, rounds, observed)


async def _load_closed(
    session: Session,
    cohort: CohortRecord,
    rounds: list[RoundRecord],
    closed_rounds: list[RoundRecord],
    students: dict[int, MemberRecord],
    active: set[int],
    key: tuple[object, ...],
) -> CohortCache:
    plan = await plan_for(session, cohort)
    query = AnswersQuery(session)
    ids = [r.id for r in closed_rounds]
    completed: dict[int, set[int]] = {}
    enrolled: dict[int, set[int]] = {}
    for round_id, member_id, done in await query.participation_rows(ids):
        enrolled.setdefault(round_id, set()).add(member_id)
        if done:
            completed.setdefault(round_id, set()).add(member_id)
    part = snapshot_part(plan, closed_rounds, await query.answer_rows(ids), completed,
                         enrolled, active)  # fmt: skip
    data = CohortData(cohort, plan, rounds, [], {}, {}, students)
    return cache_entry(key, data, gap_settings_of(cohort), part)
