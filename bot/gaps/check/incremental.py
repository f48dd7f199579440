"""`GapCheck`: the findings of one cohort now, from the closed rounds kept in its cache
entry and the open rounds read for this check (see `bot.gaps.check`)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import replace

from bot.gaps import rules as gaps
from bot.gaps.cache import CohortCache, Memo, Mine, by_student, closed_index
from bot.gaps.cohort_data import SnapshotPart
from bot.gaps.evidence import ClassAsk, class_finding
from bot.gaps.model import AnswerIndex, first_week, index_answers, remember_index, trailing_run
from bot.gaps.rules import (
    CohortAnswers,
    Finding,
    HelpRequest,
    RatingAnswer,
    ReflectionRound,
    WorkplaceObservation,
)
from storage.records import RoundRecord
from storage.repos.gap_query import GapState

_STUDENT_KINDS = ("student_gap", "blind_spot", "decline", "silence")


class GapCheck:
    """The gap findings of one cohort now, as `gaps.evaluate` would give them on
    `CohortData.cohort_answers()`, and `ok_streak` for stored fingerprints."""

    def __init__(
        self,
        entry: CohortCache,
        open_part: SnapshotPart,
        rounds: list[RoundRecord],
        observations: tuple[WorkplaceObservation, ...] = (),
        state: GapState | None = None,
    ):
        self.entry = entry
        # `observations`: the open observation rounds' (by week); the closed rounds' are kept
        # in the entry. A memo's signature holds only the open ones: the closed ones cannot
        # change while the entry holds.
        self._observed: dict[int, list[WorkplaceObservation]] = {}
        self._observed_skill: dict[str, list[WorkplaceObservation]] = {}
        for o in observations:
            self._observed.setdefault(o.student_id, []).append(o)
            self._observed_skill.setdefault(o.skill, []).append(o)
        # what the check's statement read besides the answers (`gap_check`): the unresolved
        # alerts, the team's contacts, whether an agreement's outcome waits (bot.loop)
        self.state = state if state is not None else GapState()
        self.alerts = self.state.alerts
        self._stored_of: dict[int, set[str]] = {}  # a student's stored fingerprints
        for a in self.alerts:
            kind, sid, _skill = gaps.parse_fingerprint(a.fingerprint)
            if kind in _STUDENT_KINDS and sid is not None:
                self._stored_of.setdefault(sid, set()).add(a.fingerprint)
        # the entry's rounds are the closed ones; the check's are these with the open ones
        self.data = replace(entry.data, rounds=list(rounds))
        self.settings = entry.settings
        self._open = open_part
        self._open_ids = [r.id for r in rounds if r.id in open_part.rounds]
        self._views = [entry.closed.rounds.get(r.id) or open_part.rounds[r.id] for r in rounds]
        self._open_by_student = by_student(open_part)
        # this check's memos: findings() and ok_streaks() ask for the same ones
        self._checked_students: dict[int, Memo] = {}
        self._checked_skills: dict[str, Memo] = {}

    # -- per student -----------------------------------------------------------------------

    def _student(self, sid: int) -> Memo:
        memo = self._checked_students.get(sid)
        if memo is None:
            memo = self._checked_students[sid] = self._student_now(sid)
        return memo

    def _student_now(self, sid: int) -> Memo:
        open_views = [self._open.rounds[i] for i in self._open_ids]
        mine = self._open_by_student.get(sid, Mine())
        open_observed = tuple(self._observed.get(sid, ()))
        signature = (
            tuple((v.week, sid in v.enrolled, sid in v.respondents) for v in open_views),
            mine.signature(),
            open_observed,
        )
        memo = self.entry.students.get(sid)
        if memo is not None and memo.signature == signature:
            return memo
        observed = _by_week(self.entry.observed_by_student.get(sid, ()), open_observed)
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
        later = CohortAnswers((), tuple(mine.ratings), tuple(mine.helps), tuple(mine.words),
                              open_observed)  # fmt: skip
        kept, last = closed_index(self.entry, sid)
        first = first_week(later)
        if first is None or last is None or first > last:  # the usual case: see `extending`
            remember_index(snapshot, AnswerIndex.extending(kept, snapshot, later))
        findings = [
            f
            for f in gaps.evaluate_students(snapshot, self.entry.student_settings)
            if f.kind in _STUDENT_KINDS and f.student_id == sid
        ]
        # the ok streaks of her findings and stored alerts now, while the snapshot's index is
        # at hand (`index_answers` keeps the last one): asked for later, one at a time, each
        # would index her year again — the first check after a raise asked for ~25 of them
        wanted = {f.fingerprint for f in findings} | self._stored_of.get(sid, set())
        ok = gaps.ok_streaks(sorted(wanted), snapshot, self.settings)
        memo = self.entry.students[sid] = Memo(signature, findings, ok, snapshot)
        return memo

    # -- per skill -------------------------------------------------------------------------

    def _skill(self, skill: str) -> Memo:
        memo = self._checked_skills.get(skill)
        if memo is None:
            memo = self._checked_skills[skill] = self._skill_now(skill)
        return memo

    def _skill_now(self, skill: str) -> Memo:
        ratings = [r for r in self._open.ratings if r.skill == skill]
        helps = [h for h in self._open.helps if h.skill == skill]
        open_views = [
            self._open.rounds[i] for i in self._open_ids if skill in self._open.rounds[i].skills
        ]
        signature = (tuple(open_views), tuple(ratings), tuple(helps))
        memo = self.entry.skills.get(skill)
        if memo is not None and memo.signature == signature:
            return memo
        closed = self.entry.closed_by_skill.get(skill, Mine())
        asks = self._class_asks(skill, open_views, ratings, helps)
        if asks is None:  # an open round shares its week with a closed one: all afresh
            # a class gap looks only at the rounds that asked its skill
            asking = tuple(v for v in self._views if skill in v.skills)
            whole = CohortAnswers(asking, tuple(closed.ratings + ratings),
                                  tuple(closed.helps + helps))  # fmt: skip
            asks = gaps.class_asks(index_answers(whole), skill, self.settings)
        finding = class_finding(skill, asks, self.settings)
        # unfolded: `findings` folds the students' own gaps in from their memos
        findings = [] if finding is None else [finding]
        # no snapshot: a class gap's ok streak is counted from the asks
        memo = self.entry.skills[skill] = Memo(signature, findings, {}, None, asks)
        return memo

    def class_may_fold(self, skill: str) -> bool:
        """Whether a student gap on `skill` waits for its class: no class gap now, but one
        if every student not heard yet in an open round asking it rated it 1. Folded into
        the class gap once that shows, or told once it no longer can (at the latest when the
        round closes), a student gap then reaches the team the same way in any order of
        answering (`bot.gaps.alerts.decide`)."""
        if not self.settings.fold_into_class or self._skill(skill).findings:
            return False
        unheard: dict[int, set[int]] = {}
        for round_id, member_id, done in self.state.taking:
            if not done and member_id in self.entry.active:
                unheard.setdefault(round_id, set()).add(member_id)
        asking = [i for i in self._open_ids if skill in self._open.rounds[i].skills]
        if not any(unheard.get(i) for i in asking):
            return False  # everyone asked has answered: the class figure is what it is
        return self._class_gap_at_worst(skill, asking, unheard)

    def _class_gap_at_worst(
        self, skill: str, asking: list[int], unheard: dict[int, set[int]]
    ) -> bool:
        """Whether `skill` is a class gap if each student not heard yet rated it 1."""
        views, ratings = [], [r for r in self._open.ratings if r.skill == skill]
        for i in asking:
            v, late = self._open.rounds[i], frozenset(unheard.get(i, ()))
            views.append(replace(v, enrolled=v.enrolled | late, respondents=v.respondents | late))
            ratings += [RatingAnswer(sid, v.week, skill, 1) for sid in sorted(late)]
        helps = [h for h in self._open.helps if h.skill == skill]
        asks = self._class_asks(skill, views, ratings, helps)
        # an open round sharing a week with a closed one (None): as if settled, not waiting
        return asks is not None and class_finding(skill, asks, self.settings) is not None

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
        seen.update(self.entry.observed_by_student)
        return sorted(seen)

    def skills(self) -> list[str]:
        found: set[str] = set()
        for v in self._views:
            found.update(v.skills)
        found.update(self.entry.closed_by_skill)
        found.update(r.skill for r in self._open.ratings)
        found.update(h.skill for h in self._open.helps)
        found.update(self._observed_skill)
        found.update(self.entry.observed_by_skill)
        return sorted(found)

    def findings(self) -> list[Finding]:
        """`gaps.evaluate` of the cohort's snapshot."""
        classes = [f for skill in self.skills() for f in self._skill(skill).findings]
        students = [f for sid in self.students() for f in self._student(sid).findings]
        if self.settings.fold_into_class and classes:
            # each class gap names the students with their own gap on its skill, as
            # `gaps.evaluate` folds them: from the students' memos (kept per student, so a
            # check recomputes only the student who answered, not the whole skill's year)
            gaps_of = [f for f in students if f.kind == "student_gap"]
            classes = [
                gaps.fold_students(c, [f for f in gaps_of if f.skill == c.skill]) for c in classes
            ]
            folded = {c.skill for c in classes}
            students = [f for f in students if not (f.kind == "student_gap" and f.skill in folded)]
        return sorted(classes + students, key=gaps.finding_order)

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
                assert memo.snapshot is not None  # a student's (a skill's has its asks)
                memo.ok.update(gaps.ok_streaks([fp], memo.snapshot, self.settings))
            out[fp] = memo.ok[fp]
        return out


def _by_week(
    closed: Iterable[WorkplaceObservation], open_: Iterable[WorkplaceObservation]
) -> tuple[WorkplaceObservation, ...]:
    """Closed and open observations in stored order (by week, then as stored): a week has one
    observation round, so no week is in both and a stable merge by week keeps that order."""
    closed, open_ = tuple(closed), tuple(open_)
    if not open_ or not closed or closed[-1].week < open_[0].week:
        return closed + open_  # the usual case: the open round is the latest
    return tuple(heapq.merge(closed, open_, key=lambda o: o.week))
