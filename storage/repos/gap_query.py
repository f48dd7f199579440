"""What the per-answer gap check reads after every completed reflection, in ONE statement.

Each statement costs SQLAlchemy (and aiosqlite a thread hop) more than its few rows do, so the
check's reads are one `UNION ALL` of tagged rows with the same columns (`GapState`): the
cohort row with its change counter (`cohorts.data_version`, bumped by the database whenever
what the check keeps of the cohort changes: migration 0008), the open reflection rounds, their
participations and answers, the open observation rounds' evidence, the unresolved alerts,
whether an agreement's outcome waits to be applied, and what an alert raised now needs (the
team's contacts, the gaps resolved after an agreement).
The closed rounds and the students are the check's to keep while the counter holds. Plain
columns, no ORM objects. The open rounds are found through `ix_rounds_open` (migration 0009),
not among the cohort's year of rounds."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    Text,
    bindparam,
    case,
    cast,
    false,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from storage.held_reader import READER
from storage.models import (
    Agreement,
    Alert,
    Answer,
    Cohort,
    Member,
    Observation,
    Participation,
    Round,
    UserSetting,
)
from storage.models.base import UTCDateTime
from storage.records import AnswerRow, CohortRecord, RoundRecord
from storage.repos.alerts import AFTER_AGREEMENT
from storage.repos.team import ACTIVE_MENTOR, TeamContacts, TeamMember

NOTE_SKILL = "__note__"  # as storage.repos.observations.NOTE_SKILL (not evidence)
OBSERVATION = "observation"
_ROUND, _TAKING, _ANSWER, _OBSERVED, _ALERT, _COHORT, _COHORT_TOO, _PENDING, _MENTOR, _AGREED = (
    range(10)
)


@dataclass(frozen=True)
class OpenAlert:
    """What the alert lifecycle needs of an unresolved alert (see `AlertRepo.unresolved`)."""

    id: int
    fingerprint: str
    status: str
    raised_week: int
    raise_count: int
    acknowledged_week: int | None
    muted_until: datetime | None


@dataclass
class GapState:
    version: int = 0  # cohorts.data_version: what the check keeps is valid while it holds
    open_reflections: list[RoundRecord] = field(default_factory=list)  # by week
    taking: list[tuple[int, int, bool]] = field(default_factory=list)  # open: round, member, done
    answers: list[AnswerRow] = field(default_factory=list)  # open reflection rounds
    # open observation rounds' evidence: (week, observation id, student, skill, level, wb)
    observed: list[tuple[int, int, int, str, int, int]] = field(default_factory=list)
    alerts: list[OpenAlert] = field(default_factory=list)  # unresolved, by id
    # agreements whose outcome is not applied yet (`AgreementRepo.unapplied`): usually none
    pending_outcomes: bool = False
    cohort: CohortRecord | None = None  # None: no such cohort
    # what an acting check needs, read here so that it needs no statement of its own:
    # the team's contacts (`TeamRepo.contacts`) and the alerts resolved after a learning
    # agreement (fingerprint -> the latest week one was resolved so)
    team: TeamContacts = field(default_factory=lambda: TeamContacts(None, []))
    agreed: dict[str, int] = field(default_factory=dict)


def _row(tag: int, *columns: Any) -> list[Any]:
    """A select list of the union's 13 columns: the tag, then the given ones, NULL for the
    rest (typed, so both backends agree on each column's type). One datetime column: each
    row pays for its conversion, NULL or not."""
    types = (Integer, Integer, Integer, Integer, Integer, String, String, String, String, Text,
             None, UTCDateTime)  # fmt: skip
    out: list[Any] = [_const(tag).label("c0")]
    for i, kind in enumerate(types, start=1):
        given = columns[i - 1] if i <= len(columns) else None
        if given is None:
            given = false() if kind is None else cast(null(), kind)
        # labelled: unlabelled NULLs of one type get one anonymous name in the union
        out.append(given.label(f"c{i}"))
    return out


def _const(value: int | str) -> Any:
    """A constant written into the SQL, not a parameter. With the cohort's id the only
    parameter, PostgreSQL plans the prepared statement once (a generic plan); with the tags
    and kinds as parameters too it planned it again on every run (0.45 ms of 0.8 ms)."""
    if isinstance(value, int):
        return literal_column(str(int(value)), Integer)
    return literal_column("'" + value.replace("'", "''") + "'", String)


def _statement() -> Select[Any]:
    """The union, built and compiled once per dialect (`_compiled`)."""
    cohort_id = bindparam("cohort_id", type_=Integer)
    of_cohort = Round.cohort_id == cohort_id
    is_open = Round.status == _const("open")
    reflection = Round.kind == _const("reflection")
    open_reflection = select(Round.id).where(of_cohort, reflection, is_open)
    parts = [
        select(*_row(_ROUND, Round.id, Round.week, None, None, None, Round.kind, Round.status,
                     None, None, None, None, Round.due_at))
        .where(of_cohort, reflection, is_open),
        select(*_row(_TAKING, Participation.round_id, Participation.member_id, Participation.id,
                     case((Participation.completed_at.is_not(None), _const(1)), else_=_const(0))))
        .where(Participation.round_id.in_(open_reflection)),
        # no answered_at: the rules do not look at it (`AnswerRow`)
        select(*_row(_ANSWER, Answer.round_id, Answer.member_id, Answer.id, Answer.rating,
                     None, Answer.question_key, Answer.kind, Answer.skill, Answer.choice,
                     Answer.text, Answer.skipped))
        # no join with members: answers.member_id is a foreign key (NOT NULL, both backends
        # enforce it), so the join only probed members once per answer row
        .where(Answer.round_id.in_(open_reflection)),
        select(*_row(_OBSERVED, Observation.student_id, Round.week, Observation.id,
                     Observation.level, Observation.werkbegeleider_id, None, None,
                     Observation.skill))
        .join(Round, Round.id == Observation.round_id)
        .where(of_cohort, Round.kind == _const(OBSERVATION), is_open,
               Observation.level.is_not(None), Observation.skill != _const(NOTE_SKILL)),
        select(*_row(_ALERT, Alert.id, Alert.raised_week, Alert.raise_count,
                     Alert.acknowledged_week, None, Alert.fingerprint, Alert.status,
                     None, None, None, None, Alert.muted_until))
        .where(Alert.cohort_id == cohort_id, Alert.open_key.is_not(None)),
        # the cohort row in two rows of the union's columns (`_cohort` puts it together)
        select(*_row(_COHORT, Cohort.plan_version, Cohort.schedule_version,
                     Cohort.observation_every, Cohort.group_chat_id, Cohort.data_version,
                     Cohort.name, Cohort.timezone, Cohort.expectations_at, Cohort.reflection_at,
                     cast(Cohort.gap_settings, Text)))
        .where(Cohort.id == cohort_id),
        select(*_row(_COHORT_TOO, None, None, None, None, None, Cohort.reminder_at,
                     Cohort.digest_at, Cohort.observation_at, cast(Cohort.start_date, String)))
        .where(Cohort.id == cohort_id),
        # an agreement's outcome waiting to be applied (`AgreementRepo.unapplied`): a tag
        # row says there is one, so the check after an answer needs no statement of its own
        select(*_row(_PENDING, Agreement.id))
        .where(Agreement.cohort_id == cohort_id, Agreement.status == _const("active"),
               Agreement.outcome.is_not(None) | Agreement.workplace_outcome.is_not(None),
               Agreement.outcome_applied.is_(False)),
        # the active mentors, as `TeamRepo.contacts` reads them (the group chat: the cohort's)
        select(*_row(_MENTOR, Member.id, Member.telegram_user_id, Member.chat_id, None, None,
                     UserSetting.language, Member.name))
        .outerjoin(UserSetting, UserSetting.telegram_user_id == Member.telegram_user_id)
        .where(Member.cohort_id == cohort_id, ACTIVE_MENTOR),
        select(*_row(_AGREED, Alert.resolved_week, None, None, None, None, Alert.fingerprint))
        .where(Alert.cohort_id == cohort_id, Alert.resolution == _const(AFTER_AGREEMENT)),
    ]  # fmt: skip
    both = union_all(*parts).subquery()
    c = list(both.c)
    return select(both).order_by(c[0], c[1], c[2], c[3])


# Per dialect: the SQL text, its parameters' names in order and their values (the tags).
_COMPILED: dict[str, tuple[str, tuple[str, ...], dict[str, Any]]] = {}


def _compiled(dialect: Dialect) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """The union compiled once per dialect (building, keying and compiling a statement of
    eight selects costs more than running it; a race compiles it twice: harmless)."""
    got = _COMPILED.get(dialect.name)
    if got is None:
        compiled = _statement().compile(dialect=dialect)
        names = tuple(compiled.positiontup or ())
        got = _COMPILED[dialect.name] = (str(compiled), names, dict(compiled.params))
    return got


class GapQuery:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def state(self, cohort_id: int) -> GapState:
        """Everything the per-answer check reads, in one round trip (see the module).

        Run on the driver's connection under the session's (in its transaction, if any):
        SQLAlchemy's execution and result handling of a 13-column union cost more than SQLite
        takes to run it (0.45 ms against 0.26 ms a check, docs/benchmarks.md §3). So the one
        column type with a result processor (UTCDateTime) is applied here, by `_utc`, and
        the statement passes no SQLAlchemy events (`--count-sql` does not count it)."""
        driver = self.session.info.get(READER)  # `Database.reading`'s kept connection
        if driver is None:
            connection = await self.session.connection()
            driver = (await connection.get_raw_connection()).driver_connection
        dialect = self.session.get_bind().dialect
        sql, names, params = _compiled(dialect)
        args = [cohort_id if name == "cohort_id" else params[name] for name in names]
        if dialect.name == "sqlite":  # storage.sqlite_inloop's connection
            cursor = driver.cursor()  # type: ignore[union-attr]
            await cursor.execute(sql, args)
            rows = await cursor.fetchall()
            await cursor.close()
            return _state(cohort_id, rows, _utc_from_text)
        rows = await driver.fetch(sql, *args)  # type: ignore[union-attr]  # asyncpg
        return _state(cohort_id, rows, _utc)


def _utc(value: datetime | None) -> datetime | None:
    """UTCDateTime's result processor: stored as naive UTC, read back aware."""
    return None if value is None else value.replace(tzinfo=UTC)


def _utc_from_text(value: str | None) -> datetime | None:
    """The same on SQLite, which stores a datetime as ISO text."""
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _cohort(cohort_id: int, first: tuple[Any, ...], second: tuple[Any, ...]) -> CohortRecord:
    """The cohort's record as `CohortRepo.get` makes it, from its two rows of the union."""
    plan_version, schedule_version, every, group_chat_id, name, zone, expect, reflect, gap = first
    reminder, digest, observation, start = second
    settings = json.loads(gap) if gap else None
    return CohortRecord(cohort_id, name, zone, date.fromisoformat(start[:10]), expect, reflect,
                        reminder, digest, plan_version, group_chat_id, schedule_version,
                        dict(settings or {}), observation, every)  # fmt: skip


def _state(cohort_id: int, rows: Any, utc: Callable[[Any], datetime | None] = _utc) -> GapState:
    out = GapState()
    first: tuple[Any, ...] = ()
    mentors: list[tuple[str, int, TeamMember]] = []  # by name and id, as TeamRepo orders
    for tag, a, b, n, m, k, s1, s2, s3, s4, text, flag, raw_time in rows:
        # the time is NULL for most tags: converted only where it is read (rounds, alerts)
        if tag == _ANSWER:  # most rows: first
            if not s1.startswith("__"):
                out.answers.append(AnswerRow(a, b, s1, s2, s3, m, s4, text, bool(flag)))
        elif tag == _ROUND:  # open: not closed yet
            due: Any = utc(raw_time)  # never NULL for a round
            out.open_reflections.append(RoundRecord(a, cohort_id, b, s1, s2, due, None))
        elif tag == _TAKING:
            out.taking.append((a, b, bool(m)))
        elif tag == _OBSERVED and m is not None:
            out.observed.append((b, n, a, s3, m, k))
        elif tag == _ALERT:
            out.alerts.append(OpenAlert(a, s1, s2, b, n, m, utc(raw_time)))
        elif tag == _COHORT:
            first = (a, b, n, m, s1, s2, s3, s4, text)
            out.version = k
        elif tag == _COHORT_TOO:
            out.cohort = _cohort(cohort_id, first, (s1, s2, s3, s4))
        elif tag == _PENDING:
            out.pending_outcomes = True
        elif tag == _MENTOR:
            mentors.append((s2, a, TeamMember(b, n, s1)))
        elif tag == _AGREED:
            out.agreed[s1] = max(out.agreed.get(s1, 0), a or 0)
    group = out.cohort.group_chat_id if out.cohort is not None else None
    out.team = TeamContacts(group, [m for *_order, m in sorted(mentors, key=lambda m: m[:2])])
    # by week and id, as `RoundRepo.of_cohort` gives them (the union is ordered by id)
    out.open_reflections.sort(key=lambda r: (r.week, r.id))
    out.observed.sort()
    return out
