"""Shared helpers of the mentor side: a cohort's reflection data as the gap rules see it,
its settings, and names. No Telegram here."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import gaps
from bot.delivery import Outgoing, Queued, queue
from bot.gaps import (
    CohortAnswers,
    Finding,
    GapSettings,
    HelpRequest,
    RatingAnswer,
    ReflectionRound,
)
from bot.gaps import StudentWords as Words
from bot.plans import Plan
from bot.plans.model import ResolvedWeek
from bot.planstore import plan_for
from bot.texts import normalise_language, t
from storage.records import CohortRecord, MemberRecord
from storage.repos import CohortRepo, MemberRepo, UserSettingsRepo
from storage.repos.answers_query import AnswerRow, AnswersQuery, QuestionsRepo, StoredAnswer
from storage.repos.rounds import RoundRecord, RoundRepo

log = logging.getLogger(__name__)

EXPECTATIONS_OVERRIDE = "expectations_override"  # key in cohort.gap_settings: {week: text}
COUNTED_STATUSES = ("open", "closed")  # a skipped round asked nothing


def gap_settings_of(cohort: CohortRecord) -> GapSettings:
    """The cohort's rule settings: the known keys of `gap_settings`, defaults for the rest."""
    known = {k: v for k, v in cohort.gap_settings.items() if k in GapSettings.model_fields}
    try:
        return GapSettings(**known)
    except ValidationError:
        log.warning("cohort %s has invalid gap settings; using the defaults", cohort.id)
        return GapSettings()


def skill_title(plan: Plan, key: str | None) -> str:
    if key is None:
        return ""
    try:
        return plan.skill(key).title
    except KeyError:
        return key


def local_time(cohort: CohortRecord, moment: datetime) -> datetime:
    try:
        zone = ZoneInfo(cohort.timezone)
    except Exception:
        zone = ZoneInfo("Europe/Amsterdam")
    return moment.astimezone(zone)


@dataclass(frozen=True)
class CohortData:
    """A cohort's reflection rounds and answers, loaded once for rules, views and charts."""

    cohort: CohortRecord
    plan: Plan
    rounds: list[RoundRecord]  # reflection rounds that count, by week
    answers: list[StoredAnswer]
    completed: dict[int, set[int]]  # round id -> member ids who completed it
    enrolled: dict[int, set[int]]  # round id -> member ids who got it
    students: dict[int, MemberRecord]  # every student of the cohort (any status)

    def round_index(self, week: int | None) -> int:
        """Index of the latest counted round with a week at most `week` (-1 when none)."""
        if week is None:
            return -1
        return sum(1 for r in self.rounds if r.week <= week) - 1

    def name(self, member_id: int | None) -> str:
        student = self.students.get(member_id or -1)
        return student.name if student is not None else "?"

    def cohort_answers(self) -> CohortAnswers:
        """The snapshot for `bot.gaps.evaluate`.

        An open round counts only with the students who completed it (as enrolled and as
        respondents), so nobody looks silent while a round is still running."""
        active = {m.id for m in self.students.values() if m.status == "active"}
        part = snapshot_part(self.plan, self.rounds, self.answers, self.completed,
                             self.enrolled, active)  # fmt: skip
        return CohortAnswers(
            tuple(part.rounds[r.id] for r in self.rounds),
            tuple(part.ratings),
            tuple(part.helps),
            tuple(part.words),
        )

    def asked_skills(self, week: int) -> tuple[str, ...]:
        return asked_skills(self.plan, week)

    def help_skill(self, week: int, question_key: str, choice: str) -> str | None:
        return help_skill(self.plan, week, question_key, choice)


# A plan is immutable and resolving one of its weeks is costly (pydantic models are built
# each time): the gap snapshot asks for the same few weeks thousands of times.
_WEEKS: dict[int, tuple[Plan, dict[int, ResolvedWeek]]] = {}


def resolved_week(plan: Plan, week: int) -> ResolvedWeek:
    held = _WEEKS.get(id(plan))
    if held is None or held[0] is not plan:
        if len(_WEEKS) >= 64:
            _WEEKS.clear()
        held = _WEEKS[id(plan)] = (plan, {})
    weeks = held[1]
    if week not in weeks:
        weeks[week] = plan.week(week)
    return weeks[week]


def asked_skills(plan: Plan, week: int) -> tuple[str, ...]:
    resolved = resolved_week(plan, week)
    skills = [q.skill for q in resolved.questions if q.kind == "rating" and q.skill]
    return tuple(dict.fromkeys(skills))


def help_skill(plan: Plan, week: int, question_key: str, choice: str) -> str | None:
    try:
        question = resolved_week(plan, week).question(question_key)
    except KeyError:
        return None
    return question.low_skill(choice) if question.help else None


@dataclass
class SnapshotPart:
    """The gap snapshot of some of a cohort's rounds (see `CohortData.cohort_answers`)."""

    rounds: dict[int, ReflectionRound]  # round id -> what the rules see of it
    ratings: list[RatingAnswer]
    helps: list[HelpRequest]
    words: list[Words]


def snapshot_part(
    plan: Plan,
    rounds: Sequence[RoundRecord],
    answers: Iterable[StoredAnswer | AnswerRow],
    completed: dict[int, set[int]],
    enrolled: dict[int, set[int]],
    active: set[int],
) -> SnapshotPart:
    """What the rules see of `rounds`: each round depends only on its own answers and
    participations, so parts of a cohort can be built (and kept) separately."""
    by_round = {r.id: r for r in rounds}
    responded: dict[int, set[int]] = {r.id: set(completed.get(r.id, ())) for r in rounds}
    ratings: list[RatingAnswer] = []
    helps: list[HelpRequest] = []
    words: list[Words] = []
    for a in answers:
        rnd = by_round.get(a.round_id)
        if rnd is None or a.skipped:
            continue
        if rnd.is_open and a.member_id not in responded[rnd.id]:
            continue
        responded[rnd.id].add(a.member_id)
        if a.kind == "rating" and a.rating is not None and a.skill:
            ratings.append(RatingAnswer(a.member_id, rnd.week, a.skill, a.rating))
        elif a.kind == "choice" and a.choice is not None:
            skill = help_skill(plan, rnd.week, a.question_key, a.choice)
            if skill is not None:
                helps.append(HelpRequest(a.member_id, rnd.week, skill))
        elif a.kind == "text" and a.text and a.text.strip():
            words.append(Words(a.member_id, rnd.week, a.text.strip()))
    views: dict[int, ReflectionRound] = {}
    for rnd in rounds:
        if rnd.is_open:
            members = frozenset(responded[rnd.id])
        else:
            got = enrolled.get(rnd.id, set()) | responded[rnd.id]
            members = frozenset(m for m in got if m in active or m in responded[rnd.id])
        views[rnd.id] = ReflectionRound(
            rnd.week, asked_skills(plan, rnd.week), members, frozenset(responded[rnd.id])
        )
    return SnapshotPart(views, ratings, helps, words)


async def load_cohort_data(session: AsyncSession, cohort_id: int) -> CohortData | None:
    cohort = await CohortRepo(session).get(cohort_id)
    if cohort is None:
        return None
    plan = await plan_for(session, cohort)
    rounds = [
        r
        for r in await RoundRepo(session).of_cohort(cohort_id, "reflection")
        if r.status in COUNTED_STATUSES
    ]
    query = AnswersQuery(session)
    answers = [a for a in await query.answers(cohort_id) if not a.question_key.startswith("__")]
    completed: dict[int, set[int]] = {}
    enrolled: dict[int, set[int]] = {}
    for p in await query.participations([r.id for r in rounds]):
        enrolled.setdefault(p.round_id, set()).add(p.member_id)
        if p.completed_at is not None:
            completed.setdefault(p.round_id, set()).add(p.member_id)
    students = {m.id: m for m in await MemberRepo(session).in_cohort(cohort_id, "student")}
    return CohortData(cohort, plan, rounds, answers, completed, enrolled, students)


# ----------------------------------------------------------------------------- gap check

# The check after each completed reflection (`bot.alerts.evaluate_cohort`) must stay fast for
# a cohort with a year of answers. Answers change only in open rounds (`checkin.save_choice`
# refuses closed ones), so the closed rounds' part of the snapshot is kept per cohort and
# reused while a cheap key — the cohort row, its counted rounds, its students and the row
# counts of the closed rounds — is unchanged; only the open rounds are read each time. The
# rules are then run per student (student gaps, declines, silences look at one student's
# answers only) and per skill (class gaps look at one skill's answers only), each again only
# when its part of the snapshot changed. The findings are those of `gaps.evaluate` on the
# whole snapshot (bench/gap_eval.py checks that on 400 cohorts).

_GAP_CACHE_SIZE = 32  # cohorts kept (about 1 MB each with 40 weeks of answers)
_STUDENT_KINDS = ("student_gap", "decline", "silence")


@dataclass
class _Memo:
    signature: object
    findings: list[Finding]
    ok: dict[str, int]
    snapshot: CohortAnswers


@dataclass
class _CohortCache:
    key: tuple[object, ...]
    data: CohortData  # no answers: for names, plan, rounds
    settings: GapSettings
    student_settings: GapSettings
    closed: SnapshotPart
    closed_by_student: dict[int, tuple[list[RatingAnswer], list[HelpRequest], list[Words]]]
    closed_by_skill: dict[str, tuple[list[RatingAnswer], list[HelpRequest]]]
    closed_words: dict[tuple[int, int], list[Words]]
    students: dict[int, _Memo]
    skills: dict[str, _Memo]


_GAP_CACHE: OrderedDict[tuple[str, int], _CohortCache] = OrderedDict()


def _asked(ratings: list[RatingAnswer], helps: list[HelpRequest]) -> set[tuple[int, int]]:
    return {(r.student_id, r.week) for r in ratings} | {(h.student_id, h.week) for h in helps}


def _sort_key(f: Finding) -> tuple[int, int, str]:
    return gaps.KIND_ORDER[f.kind], -1 if f.student_id is None else f.student_id, f.skill or ""


class GapCheck:
    """The gap findings of one cohort now, as `gaps.evaluate` would give them on
    `CohortData.cohort_answers()`, and `ok_streak` for stored fingerprints."""

    def __init__(self, entry: _CohortCache, open_part: SnapshotPart, rounds: list[RoundRecord]):
        self.entry = entry
        self.data = entry.data
        self.settings = entry.settings
        self._open = open_part
        self._open_ids = [r.id for r in rounds if r.id in open_part.rounds]
        self._views = [entry.closed.rounds.get(r.id) or open_part.rounds[r.id] for r in rounds]
        self._open_by_student: dict[
            int, tuple[list[RatingAnswer], list[HelpRequest], list[Words]]
        ] = {}
        for r in open_part.ratings:
            self._open_by_student.setdefault(r.student_id, ([], [], []))[0].append(r)
        for h in open_part.helps:
            self._open_by_student.setdefault(h.student_id, ([], [], []))[1].append(h)
        for w in open_part.words:
            self._open_by_student.setdefault(w.student_id, ([], [], []))[2].append(w)

    # -- per student -----------------------------------------------------------------------

    def _student(self, sid: int) -> _Memo:
        open_views = [self._open.rounds[i] for i in self._open_ids]
        mine = self._open_by_student.get(sid, ([], [], []))
        signature = (
            tuple((v.week, sid in v.enrolled, sid in v.respondents) for v in open_views),
            tuple(mine[0]),
            tuple(mine[1]),
            tuple(mine[2]),
        )
        memo = self.entry.students.get(sid)
        if memo is not None and memo.signature == signature:
            return memo
        one = frozenset((sid,))
        empty: frozenset[int] = frozenset()
        closed = self.entry.closed_by_student.get(sid, ([], [], []))
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
            tuple(closed[0] + mine[0]),
            tuple(closed[1] + mine[1]),
            tuple(closed[2] + mine[2]),
        )
        findings = [
            f
            for f in gaps.evaluate(snapshot, self.entry.student_settings)
            if f.kind in _STUDENT_KINDS and f.student_id == sid
        ]
        memo = self.entry.students[sid] = _Memo(signature, findings, {}, snapshot)
        return memo

    # -- per skill -------------------------------------------------------------------------

    def _skill(self, skill: str) -> _Memo:
        ratings = [r for r in self._open.ratings if r.skill == skill]
        helps = [h for h in self._open.helps if h.skill == skill]
        open_views = [
            self._open.rounds[i] for i in self._open_ids if skill in self._open.rounds[i].skills
        ]
        asked_now = _asked(ratings, helps)
        open_words = tuple(w for w in self._open.words if (w.student_id, w.week) in asked_now)
        signature = (tuple(open_views), tuple(ratings), tuple(helps), open_words)
        memo = self.entry.skills.get(skill)
        if memo is not None and memo.signature == signature:
            return memo
        closed = self.entry.closed_by_skill.get(skill, ([], []))
        all_ratings, all_helps = closed[0] + ratings, closed[1] + helps
        # a class gap looks only at the rounds that asked its skill
        asking = tuple(v for v in self._views if skill in v.skills)
        snapshot = CohortAnswers(asking, tuple(all_ratings), tuple(all_helps))
        findings = [
            f
            for f in gaps.find_class_gaps(snapshot, self.settings)
            if f.kind == "class_gap" and f.skill == skill
        ]
        if findings and self.settings.fold_into_class:
            # the class finding names the students with their own gap on the skill, with
            # their words: the whole rule set on this skill's answers (the rounds that asked
            # it, the words of those asks) folds them in
            asked = _asked(all_ratings, all_helps)
            closed_words = self.entry.closed_words
            words = [w for pair in sorted(asked) for w in closed_words.get(pair, ())]
            words += [w for w in self._open.words if (w.student_id, w.week) in asked]
            with_words = CohortAnswers(asking, snapshot.ratings, snapshot.helps, tuple(words))
            findings = [
                f
                for f in gaps.evaluate(with_words, self.settings)
                if f.kind == "class_gap" and f.skill == skill
            ]
        memo = self.entry.skills[skill] = _Memo(signature, findings, {}, snapshot)
        return memo

    # -- the whole cohort ------------------------------------------------------------------

    def students(self) -> list[int]:
        seen: set[int] = set()
        for v in self._views:
            seen |= v.enrolled | v.respondents
        seen.update(self.entry.closed_by_student)
        seen.update(self._open_by_student)
        return sorted(seen)

    def skills(self) -> list[str]:
        found: set[str] = set()
        for v in self._views:
            found.update(v.skills)
        found.update(self.entry.closed_by_skill)
        found.update(r.skill for r in self._open.ratings)
        found.update(h.skill for h in self._open.helps)
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
        return sorted(classes + per_student, key=_sort_key)

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
            if fp not in memo.ok:
                memo.ok.update(gaps.ok_streaks([fp], memo.snapshot, self.settings))
            out[fp] = memo.ok[fp]
        return out


async def gap_check(session: AsyncSession, cohort_id: int) -> GapCheck | None:
    """The cohort's gap check, reading only what changed since the last one (see above)."""
    cohort = await CohortRepo(session).get(cohort_id)
    if cohort is None:
        return None
    query = AnswersQuery(session)
    counted = await query.rounds_in(cohort_id, "reflection", COUNTED_STATUSES)
    rounds = [r for r, _answers, _taking in counted]
    students = {m.id: m for m in await MemberRepo(session).in_cohort(cohort_id, "student")}
    open_ids = [r.id for r in rounds if r.is_open]
    closed_rounds = [r for r in rounds if not r.is_open]
    # an open round's rows change with every answer; they are read afresh anyway
    key = (cohort, tuple(c if not c[0].is_open else c[0] for c in counted),
           tuple(students.values()))  # fmt: skip
    bind = session.bind
    cache_key = (str(getattr(bind, "url", id(bind))), cohort_id)
    entry = _GAP_CACHE.get(cache_key)
    active = {m.id for m in students.values() if m.status == "active"}
    if entry is None or entry.key != key:
        entry = await _load_closed(session, cohort, rounds, closed_rounds, students, active, key)
        _GAP_CACHE[cache_key] = entry
        while len(_GAP_CACHE) > _GAP_CACHE_SIZE:
            _GAP_CACHE.popitem(last=False)
    _GAP_CACHE.move_to_end(cache_key)
    open_rounds = [r for r in rounds if r.is_open]
    completed: dict[int, set[int]] = {}
    for round_id, member_id, done in await query.participation_rows(open_ids):
        if done:
            completed.setdefault(round_id, set()).add(member_id)
    open_answers = await query.answer_rows(open_ids)
    open_part = snapshot_part(entry.data.plan, open_rounds, open_answers, completed, {}, active)
    return GapCheck(entry, open_part, rounds)


async def _load_closed(
    session: AsyncSession,
    cohort: CohortRecord,
    rounds: list[RoundRecord],
    closed_rounds: list[RoundRecord],
    students: dict[int, MemberRecord],
    active: set[int],
    key: tuple[object, ...],
) -> _CohortCache:
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
    by_student: dict[int, tuple[list[RatingAnswer], list[HelpRequest], list[Words]]] = {}
    by_skill: dict[str, tuple[list[RatingAnswer], list[HelpRequest]]] = {}
    words: dict[tuple[int, int], list[Words]] = {}
    for r in part.ratings:
        by_student.setdefault(r.student_id, ([], [], []))[0].append(r)
        by_skill.setdefault(r.skill, ([], []))[0].append(r)
    for h in part.helps:
        by_student.setdefault(h.student_id, ([], [], []))[1].append(h)
        by_skill.setdefault(h.skill, ([], []))[1].append(h)
    for w in part.words:
        by_student.setdefault(w.student_id, ([], [], []))[2].append(w)
        words.setdefault((w.student_id, w.week), []).append(w)
    settings = gap_settings_of(cohort)
    data = CohortData(cohort, plan, rounds, [], {}, {}, students)
    return _CohortCache(
        key,
        data,
        settings,
        settings.model_copy(update={"fold_into_class": False}),
        part,
        by_student,
        by_skill,
        words,
        {},
        {},
    )


def mentor_cohort_choice(
    mentor_cohorts: Sequence[tuple[int, str]], args: Sequence[str]
) -> tuple[int | None, list[str]]:
    """Pick the cohort a mentor command is about: the first argument when it names one of
    the mentor's cohorts (then it is taken off the arguments), else the first cohort."""
    if not mentor_cohorts:
        return None, list(args)
    if args:
        wanted = args[0].casefold()
        for cohort_id, name in mentor_cohorts:
            if name.casefold() == wanted:
                return cohort_id, list(args[1:])
    return mentor_cohorts[0][0], list(args)


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def jsonable(value: Any) -> Any:
    """Make dataclass evidence storable as JSON (tuples to lists)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


# ----------------------------------------------------------------------------- commands

MAX_EXPECTATIONS = 3500
MAX_ANSWER = 3500


def next_plan_week(plan: Plan, start: date, today: date) -> int:
    """The plan week after the current one (holidays skipped); week 1 before the start."""
    current = plan.teaching_week(start, today) or 0
    for days in range(1, 120):
        week = plan.teaching_week(start, today + timedelta(days=days))
        if week is not None and week > current:
            return week
    return current + 1


async def set_expectations(
    session: AsyncSession, cohort: CohortRecord, text: str, now: datetime
) -> int:
    """Store next week's expectations text in gap_settings["expectations_override"]; the week."""
    plan = await plan_for(session, cohort)
    week = next_plan_week(plan, cohort.start_date, local_time(cohort, now).date())
    settings = dict(cohort.gap_settings)
    overrides = dict(settings.get(EXPECTATIONS_OVERRIDE) or {})
    overrides[str(week)] = text
    settings[EXPECTATIONS_OVERRIDE] = overrides
    await CohortRepo(session).update_settings(cohort.id, gap_settings=settings)
    return week


def expectations_override(cohort: CohortRecord, week: int) -> str | None:
    """The mentor team's own expectations text for `week`, if they set one (/verwachting)."""
    overrides = cohort.gap_settings.get(EXPECTATIONS_OVERRIDE) or {}
    value = overrides.get(str(week)) if isinstance(overrides, dict) else None
    return value if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True)
class AnswerResult:
    status: str  # "sent", "unreachable", "not_found", "already"
    name: str = ""


async def answer_question(
    session: AsyncSession,
    question_id: int,
    text: str,
    mentors: dict[int, MemberRecord],
    now: datetime,
) -> AnswerResult:
    """A mentor answers a student's question: stored, and queued to the student's chat."""
    questions = QuestionsRepo(session)
    question = await questions.get(question_id)
    if question is None or question.cohort_id not in mentors:
        return AnswerResult("not_found")
    if question.answer_text is not None:
        return AnswerResult("already", question.answered_by or "")
    mentor = mentors[question.cohort_id]
    if not await questions.answer(question_id, text, mentor.name, now):
        return AnswerResult("already", "")
    student = await MemberRepo(session).get(question.member_id)
    if student is None or not student.is_active or student.chat_id is None:
        return AnswerResult("unreachable", student.name if student else "?")
    lang = normalise_language(
        await UserSettingsRepo(session).language(student.telegram_user_id or 0)
    )
    body = t("answer.to_student", lang, question=shorten(question.text, 200), text=text)
    item = Queued(
        f"answer:{question_id}",
        student.chat_id,
        "answer",
        Outgoing(body),
        question.cohort_id,
        member_id=student.id,
        priority=5,
    )
    await queue(session, [item], now)
    return AnswerResult("sent", student.name)
