"""One decorator per role, so a handler says only what differs.

Each decorator opens the update's unit of work (one database transaction), identifies the
user, and, when the role does not fit, refuses politely in the user's language and calls
nothing. The decorated function gets a typed scope (session, identity, language, the
services' clock reading, and per role the student, the mentor's cohort or the observer's
cohorts) and runs inside the transaction. What it returns is sent after the commit, so a
reply never announces data that is not stored yet and slow work (charts) holds no lock.

- `as_anyone`: any Telegram user, known or not (help, language, buttons, fallbacks);
- `as_student(...)`: an active student (or, for their own data, a linked one);
- `as_mentor`: an active mentor of the cohort the command is about;
- `as_observer`: an active observer of at least one cohort.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from telegram import Update

from bot.gaps.cohort_data import CohortData, load_cohort_data
from bot.mentor.actions import mentor_cohort_choice
from bot.people.identity import Identity
from bot.people.privacy import own_student
from bot.runtime.context import MentorContext
from handlers.base import answer, identify, unit_of_work
from storage.db import Session
from storage.records import CohortRecord, MemberRecord
from storage.repos import CohortRepo

Reply = Callable[[], Awaitable[object]] | None
"""What a handler sends once its transaction is committed (None: nothing more)."""


@dataclass(frozen=True)
class Scope:
    """The update's transaction, who sent it, and the time it is handled at."""

    session: Session
    who: Identity
    now: datetime

    @property
    def language(self) -> str:
        return self.who.language


@dataclass(frozen=True)
class StudentScope(Scope):
    student: MemberRecord

    async def cohort(self) -> CohortRecord | None:
        return await CohortRepo(self.session).get(self.student.cohort_id)


@dataclass(frozen=True)
class MentorScope(Scope):
    cohort_id: int  # the cohort the command is about
    mentors: dict[int, MemberRecord]  # cohort id -> the user's active mentor membership
    args: list[str]  # the command's arguments after the cohort name, if one was given

    async def cohort(self) -> CohortRecord:
        cohort = await CohortRepo(self.session).get(self.cohort_id)
        assert cohort is not None, "a mentor's membership keeps its cohort"
        return cohort

    async def cohort_data(self) -> CohortData:
        data = await load_cohort_data(self.session, self.cohort_id)
        assert data is not None, "a mentor's membership keeps its cohort"
        return data


@dataclass(frozen=True)
class ObserverScope(Scope):
    cohort_ids: list[int]  # every cohort the user observes


@dataclass(frozen=True)
class Refused:
    """The role does not fit: the user gets text `key` in their language, after the commit
    (on SQLite a transaction holds the process's turn: no Bot API call inside one)."""

    key: str


Handler = Callable[[Update, MentorContext], Coroutine[Any, Any, None]]
S = TypeVar("S", bound=Scope)


def _handler(
    make_scope: Callable[[Scope, Update, MentorContext], Awaitable[S | Refused]],
    body: Callable[[Update, MentorContext, S], Awaitable[Reply]],
) -> Handler:
    """The shared frame: transaction, identity, scope (or a refusal), body, then the reply."""

    @functools.wraps(body)
    async def handler(update: Update, context: MentorContext) -> None:
        async with unit_of_work(context) as session:
            who = await identify(session, update, context)
            base = Scope(session, who, context.state.now())
            scope = await make_scope(base, update, context)
            if isinstance(scope, Refused):
                reply: Reply = functools.partial(answer, update, who.language, scope.key)
            else:
                reply = await body(update, context, scope)
        if reply is not None:
            await reply()

    return handler


def as_anyone(body: Callable[[Update, MentorContext, Scope], Awaitable[Reply]]) -> Handler:
    """Any user: the handler decides itself what an unknown user gets."""

    async def scope(base: Scope, update: Update, context: MentorContext) -> Scope:
        return base

    return _handler(scope, body)


def as_student(
    *, not_student: str = "input.students_only", own_data: bool = False
) -> Callable[[Callable[[Update, MentorContext, StudentScope], Awaitable[Reply]]], Handler]:
    """A student only. Someone enrolled in another role gets `not_student`, a stranger
    `input.not_enrolled`. With `own_data` a student who is linked but not active (e.g.
    unreachable after a block) still counts: their own data stays theirs to see and end."""

    async def scope(base: Scope, update: Update, context: MentorContext) -> StudentScope | Refused:
        who = base.who
        student = own_student(who.memberships) if own_data else who.student
        if student is None:
            return Refused(not_student if who.is_enrolled else "input.not_enrolled")
        return StudentScope(base.session, who, base.now, student)

    def decorate(
        body: Callable[[Update, MentorContext, StudentScope], Awaitable[Reply]],
    ) -> Handler:
        return _handler(scope, body)

    return decorate


async def _mentor_scope(
    base: Scope, update: Update, context: MentorContext
) -> MentorScope | Refused:
    """In a private chat the cohort named as the first argument, else the mentor's first; in a
    group only the cohort linked to it (/koppel), and only for that cohort's own mentors: a
    mentor of another class must not post their class's data in someone else's group."""
    who = base.who
    mentors = {m.cohort_id: m for m in who.active("mentor")}
    repo = CohortRepo(base.session)
    args = list(context.args or [])
    chat = update.effective_chat
    if chat is not None and chat.type != "private":
        linked = await repo.by_group_chat(chat.id)
        named = [(linked.id, linked.name)] if linked is not None and linked.id in mentors else []
    else:
        named = [(c.id, c.name) for cid in mentors if (c := await repo.get(cid)) is not None]
    cohort_id, rest = mentor_cohort_choice(named, args)
    if cohort_id is None:
        return Refused("input.mentor_only")
    return MentorScope(base.session, who, base.now, cohort_id, mentors, rest)


def as_mentor(
    body: Callable[[Update, MentorContext, MentorScope], Awaitable[Reply]],
) -> Handler:
    """An active mentor of the cohort the command is about; anyone else `input.mentor_only`."""
    return _handler(_mentor_scope, body)


async def _observer_scope(
    base: Scope, update: Update, context: MentorContext
) -> ObserverScope | Refused:
    cohort_ids = [m.cohort_id for m in base.who.active("observer")]
    if not cohort_ids:
        return Refused("observer.only")
    return ObserverScope(base.session, base.who, base.now, cohort_ids)


def as_observer(
    body: Callable[[Update, MentorContext, ObserverScope], Awaitable[Reply]],
) -> Handler:
    """An active observer (regiegroep); anyone else gets `observer.only`."""
    return _handler(_observer_scope, body)
