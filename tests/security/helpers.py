"""Helpers of the security tests: two classes to attack, and proof that nothing changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, func, select

from bot.gaps.alerts import evaluate_cohort
from storage.models import Base, Member, Round, StudentQuestion
from storage.repos import CohortRepo
from tests.factories import add_mentor, add_student, make_cohort
from tests.harness import Harness
from tests.mentor.helpers import PLAN, add_week, week_time
from tgsandbox import SandboxChat, SandboxUser, SentMessage

MENTOR_ONLY = "Dat commando is alleen voor het mentorteam."
SORRY = "Sorry, dat is niet gelukt"  # the error handler's reply: never expected here

# Columns of a table that the background outbox sender changes while a test runs; only these
# columns are compared for that table (a new or missing row still shows).
STABLE_COLUMNS = {"outbox": ("dedupe_key", "cohort_id", "member_id", "chat_id", "kind")}


def _of_cohort(table: Table, cohort_id: int) -> ColumnElement[bool] | None:
    columns = table.c
    if table.name == "cohorts":
        return columns.id == cohort_id
    if "cohort_id" in columns:
        return columns.cohort_id == cohort_id
    if "round_id" in columns:
        return columns.round_id.in_(select(Round.id).where(Round.cohort_id == cohort_id))
    if "member_id" in columns:
        return columns.member_id.in_(select(Member.id).where(Member.cohort_id == cohort_id))
    return None


# Where updates arrive and instances run: every update adds a row, whatever it changes.
RUNTIME_TABLES = {"inbox", "instance_leases"}


async def db_state(h: Harness, cohort_id: int | None = None) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table (of one cohort if given), as comparable tuples."""
    state: dict[str, list[tuple[str, ...]]] = {}
    async with h.db.transaction() as s:
        for table in Base.metadata.sorted_tables:
            if table.name in RUNTIME_TABLES:
                continue
            names = STABLE_COLUMNS.get(table.name)
            columns = [table.c[n] for n in names] if names else list(table.c)
            query = select(*columns)
            if cohort_id is not None:
                where = _of_cohort(table, cohort_id)
                if where is None:
                    continue
                query = query.where(where)
            rows = (await s.execute(query)).all()
            state[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
    return state


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The tables whose rows differ, with the rows added and removed (readable failures)."""
    diff = {}
    for name in before.keys() | after.keys():
        old, new = set(before.get(name, [])), set(after.get(name, []))
        if old != new:
            diff[name] = {"added": sorted(new - old), "removed": sorted(old - new)}
    return diff


@dataclass
class TwoClasses:
    """PW3A (mentor Marit, students Anna, Bram, Cem, a team group, an open alert, a question
    of Anna's) and PW3B (mentor Olga, student Zara, its own team group)."""

    a: int
    b: int
    marit: SandboxUser
    anna: SandboxUser
    olga: SandboxUser
    zara: SandboxUser
    stranger: SandboxUser
    group_a: SandboxChat
    group_b: SandboxChat
    loose_group: SandboxChat  # linked to no class
    alert_id: int
    question_id: int
    a_names: tuple[str, ...] = ("Anna de Vries", "Bram Bakker", "Cem Yilmaz")


async def two_classes(h: Harness) -> TwoClasses:
    marit, anna = h.api.add_user("Marit", "Jansen"), h.api.add_user("Anna", "de Vries")
    olga, zara = h.api.add_user("Olga", "Peters"), h.api.add_user("Zara", "Visser")
    stranger = h.api.add_user("Onbekend")
    group_a, group_b = h.api.add_group("Mentorteam PW3A"), h.api.add_group("Mentorteam PW3B")
    loose = h.api.add_group("Koffiehoek")
    for group in (group_a, group_b, loose):
        for user in (marit, olga, anna, stranger):
            await h.api.add_member_to_group(user, group)
    await h.settled()  # the joins are seen while nobody is enrolled yet
    async with h.db.transaction() as s:
        a = await make_cohort(s, "PW3A", plan=PLAN)
        await add_mentor(s, a, "Marit Jansen", marit.id)
        ids = {
            "anna": await add_student(s, a, "Anna de Vries", anna.id),
            "bram": await add_student(s, a, "Bram Bakker", 5001),
            "cem": await add_student(s, a, "Cem Yilmaz", 5002),
        }
        for week in (1, 2):
            await add_week(
                s,
                a,
                week,
                {
                    ids["anna"]: {"klimaat": 1, "samenwerken": 4},
                    ids["bram"]: {"klimaat": 4, "samenwerken": 5},
                    ids["cem"]: {"klimaat": 3, "samenwerken": 4},
                },
                texts={ids["anna"]: f"Week {week}: een kind huilde, ik wist niet wat te doen."},
            )
        b = await make_cohort(s, "PW3B", plan=PLAN)
        await add_mentor(s, b, "Olga Peters", olga.id)
        zara_id = await add_student(s, b, "Zara Visser", zara.id)
        await add_week(s, b, 1, {zara_id: {"klimaat": 4, "samenwerken": 4}})
        await CohortRepo(s).link_group(a, group_a.id)
        await CohortRepo(s).link_group(b, group_b.id)
        [alert_id] = await evaluate_cohort(s, a, week_time(2))
        question = StudentQuestion(
            cohort_id=a, member_id=ids["anna"], text="Mag ik ruilen?", asked_at=week_time(2)
        )
        s.add(question)
        await s.flush()
        question_id = question.id
    h.state.wake_sender()
    await h.api.wait_for_message(group_a, lambda m: "Signaal" in (m.text or ""), timeout=10)
    return TwoClasses(
        a, b, marit, anna, olga, zara, stranger, group_a, group_b, loose, alert_id, question_id
    )


def visible(message: SentMessage) -> str:
    """All a user can read of a message: its text or caption, and a document's contents."""
    parts = [message.text or "", message.caption or ""]
    if message.document is not None:
        parts.append(message.document.data.decode("utf-8", "replace"))
    return "\n".join(parts)


STARR_KEY = "praktijksituatie"
STARR_LIMIT = 2000  # the default plan's max_length of the STARR question


def is_question(message: SentMessage) -> bool:
    return "Vraag " in (message.text or "") and " van " in (message.text or "")


async def count(h: Harness, model: type, *where: object) -> int:
    async with h.db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def starr_open(h: Harness, name: str = "Ilse") -> tuple[int, SandboxUser, SentMessage]:
    """A student in week 1 who answered the three ratings: the STARR text question is open."""
    cohort_id = await h.cohort()
    user = h.api.add_user(name)
    await h.join(user, await h.code(cohort_id))
    await h.state.live().scheduler.push(cohort_id, "reflection", week=1)
    message = await h.api.wait_for_message(
        user, lambda m: "reflectie van week 1" in (m.text or ""), timeout=20
    )
    while "1" in [b["text"] for b in message.buttons()]:
        mark = h.api.mark(user)
        await h.api.press(user, message, "3")
        message = await h.api.wait_for_message(user, is_question, since=mark)
    assert "STARR" in message.text and message.buttons() == []
    # The question's message id is stored right after it is sent, while the tap that asked
    # it still holds the student's turn in the inbox (their next message waits for it): the
    # state a test compares against is the one after that write.
    await h.settled()
    return cohort_id, user, message


async def says(h: Harness, user: SandboxUser, send: object) -> SentMessage:
    """Do `send` (a coroutine that sends something as `user`); the bot's next message."""
    mark = h.api.mark(user)
    await send  # type: ignore[misc]
    return await h.api.wait_for_message(user, since=mark)


def no_sorry(h: Harness, *users: SandboxUser) -> bool:
    return not any(SORRY in (m.text or "") for u in users for m in h.api.messages(u))
