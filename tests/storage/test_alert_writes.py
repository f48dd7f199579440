"""The alert check's writes, each one statement built once (`storage.repos.alerts`), on a SQLite
file and PostgreSQL: a resolving check's `resolve_rules` in `Database.autocommit` resolves
the gaps that got better, each once, and an alert resolved meanwhile (another instance, an
agreement) keeps its resolution; `raise_new` opens a gap once and reads back as raised; with
its message it is one statement on PostgreSQL (`queue_after`), and the message names the
alert's own id. Each write runs in the session the alert check applies its decision in
(`deciding`): on PostgreSQL its read's, on the kept reader's connection (`rows` on the driver)
or, while another read holds that one, on a pooled connection; on SQLite `Database.autocommit`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.records import NewAlert, OutboxDraft, OutboxItem
from storage.repos.alerts import AFTER_AGREEMENT, AlertRepo
from storage.repos.core import Direct
from storage.repos.outbox import NEW_ID, OutboxRepo
from tests.factories import make_cohort

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOW = pytest.mark.parametrize("how", ["kept", "pooled"])


@asynccontextmanager
async def deciding(db: Database, how: str) -> AsyncIterator[AsyncSession]:
    """The session `check_alerts` applies a decision in (bot.loop.followup): PostgreSQL its
    read's, on the kept reader (`how` "kept") or, while another read holds that, a pooled
    connection ("pooled"); SQLite `Database.autocommit` (both the same there)."""
    if not db.reads_autocommit:
        async with db.autocommit() as session:
            yield session
    elif how == "kept":
        async with db.reading() as session:
            yield session
    else:
        async with db.reading(), db.reading() as session:
            yield session


async def _raise(db: Database, cohort_id: int, fingerprint: str) -> int:
    async with db.transaction() as s:
        alert_id = await AlertRepo(s).raise_new(
            cohort_id, fingerprint, kind="silence", member_id=None, skill=None,
            evidence={}, week=3, now=NOW,
        )  # fmt: skip
    assert alert_id is not None
    return alert_id


@HOW
async def test_resolving_in_one_statement_resolves_each_open_alert_once(
    db: Database, how: str
) -> None:
    cohort = await make_cohort(db)
    first, second, agreed = [await _raise(db, cohort, f"silence:{n}:-") for n in (1, 2, 3)]
    async with db.transaction() as s:  # resolved after an agreement, a moment before
        assert await AlertRepo(s).resolve(agreed, NOW, AFTER_AGREEMENT, 3)
    async with deciding(db, how) as s:
        resolved = await AlertRepo(s).resolve_rules([first, second, agreed], NOW)
    assert sorted(resolved) == [first, second]
    async with deciding(db, how) as s:  # the same decision applied again changes nothing
        assert await AlertRepo(s).resolve_rules([first, second], NOW) == []
    async with db.reading() as s:
        repo = AlertRepo(s)
        rows = {a: await repo.get(a) for a in (first, second, agreed)}
        assert await repo.unresolved(cohort) == []
    assert {a: (r.status, r.resolution) for a, r in rows.items() if r} == {
        first: ("resolved", None),
        second: ("resolved", None),
        agreed: ("resolved", AFTER_AGREEMENT),
    }
    # a fingerprint resolved can be raised again later: the open key was freed
    assert await _raise(db, cohort, "silence:1:-") not in (first, second)


async def test_an_alert_raised_reads_back_as_raised_and_is_open_once(db: Database) -> None:
    cohort = await make_cohort(db)
    evidence = {"weeks": [3, 4], "ratings": {"3": 2}, "note": "Vandaag lukte het niet"}
    async with db.transaction() as s:
        repo = AlertRepo(s)
        first = await repo.raise_new(cohort, "student_gap:7:samenwerken", kind="student_gap",
                                     member_id=None, skill="samenwerken", evidence=evidence,
                                     week=4, now=NOW)  # fmt: skip
        again = await repo.raise_new(cohort, "student_gap:7:samenwerken", kind="student_gap",
                                     member_id=None, skill="samenwerken", evidence={},
                                     week=5, now=NOW)  # fmt: skip
    assert first is not None and again is None  # one open alert per gap
    async with db.reading() as s:
        alert = await AlertRepo(s).get(first)
    assert alert is not None
    assert (alert.status, alert.kind, alert.skill, alert.raised_week, alert.raise_count) == (
        "open", "student_gap", "samenwerken", 4, 1,
    )  # fmt: skip
    assert alert.evidence == evidence and alert.raised_at == NOW


def _message(key: str, chats: tuple[int, ...] = (501, 502)) -> list[OutboxDraft]:
    payload = {
        "text": "Ayla: samenwerken",
        "buttons": [[{"text": "Gezien", "data": f"al:{key}:ack"}]],
    }
    return [OutboxDraft(f"alert:{key}:1:{chat}", chat, "alert", payload, 5, cohort_id=None)
            for chat in chats]  # fmt: skip


async def _queued(db: Database) -> list[OutboxItem]:
    async with db.reading() as s:
        return await OutboxRepo(s).all()


@HOW
async def test_a_new_alert_and_its_message_are_written_together_naming_its_id(
    db: Database, how: str
) -> None:
    cohort = await make_cohort(db)
    statements: list[str] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute",
                 lambda *args: statements.append(args[2]))  # fmt: skip
    direct = Direct.statements  # those `rows` ran on the driver: no event sees them
    async with deciding(db, how) as s:
        alert_id = await AlertRepo(s).raise_new(
            cohort, "silence:7:-", kind="silence", member_id=None, skill=None, evidence={},
            week=3, now=NOW, message=_message(NEW_ID),
        )  # fmt: skip
    assert alert_id is not None
    writes = len([q for q in statements if "outbox" in q or "alerts" in q])
    writes += Direct.statements - direct
    # PostgreSQL: one round trip; SQLite (in process, one transaction): the alert, then each
    # of its two messages (a few outbox rows are one statement each there, `enqueue_many`)
    assert writes == (1 if db.engine.dialect.name == "postgresql" else 3)
    rows = await _queued(db)
    assert sorted((r.dedupe_key, r.chat_id) for r in rows) == [
        (f"alert:{alert_id}:1:501", 501),
        (f"alert:{alert_id}:1:502", 502),
    ]
    assert {r.payload["buttons"][0][0]["data"] for r in rows} == {f"al:{alert_id}:ack"}
    assert {(r.kind, r.priority, r.status, r.payload["text"]) for r in rows} == {
        ("alert", 5, "pending", "Ayla: samenwerken")
    }
    # a new row's defaults, as `outbox.repo.new_row` gives them on both backends
    assert {(r.attempts, r.repeats, r.not_before, r.created_at) for r in rows} == {(0, 0, NOW, NOW)}
    async with deciding(db, how) as s:  # open already: no second alert, no second message
        again = await AlertRepo(s).raise_new(
            cohort, "silence:7:-", kind="silence", member_id=None, skill=None, evidence={},
            week=4, now=NOW, message=_message(NEW_ID, (503,)),
        )  # fmt: skip
    assert again is None
    assert len(await _queued(db)) == 2


@HOW
async def test_raising_again_queues_its_message_once_for_two_instances(
    db: Database, how: str
) -> None:
    cohort = await make_cohort(db)
    alert_id = await _raise(db, cohort, "silence:8:-")
    key = f"{alert_id}:2"
    for _instance in range(2):  # both read raise count 1
        async with deciding(db, how) as s:
            done = await AlertRepo(s).reraise(alert_id, 1, {"weeks": [5]}, 5, NOW,
                                              _message(key, (601,)))  # fmt: skip
        assert done is (_instance == 0)
    async with db.reading() as s:
        alert = await AlertRepo(s).get(alert_id)
    assert alert is not None and (alert.raise_count, alert.raised_week) == (2, 5)
    assert [r.dedupe_key for r in await _queued(db)] == [f"alert:{key}:1:601"]


@HOW
async def test_a_check_raising_several_alerts_writes_them_with_their_messages_at_once(
    db: Database, how: str
) -> None:
    """A check that finds three gaps, one of them open already: two alerts open, each of the
    team's messages names its own alert, and nothing is queued for the open one; on
    PostgreSQL all in one round trip."""
    cohort = await make_cohort(db)
    open_already = await _raise(db, cohort, "silence:9:-")
    gaps = [("student_gap:7:samenwerken", 7, "samenwerken"), ("silence:9:-", None, None),
            ("class_gap:spelen", None, "spelen")]  # fmt: skip
    alerts = [
        NewAlert(fp, fp.split(":")[0], None, skill, {"weeks": [4], "student": student},
                 tuple(_message(f"{NEW_ID}:{fp}")))
        for fp, student, skill in gaps
    ]  # fmt: skip
    statements: list[str] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute",
                 lambda *args: statements.append(args[2]))  # fmt: skip
    direct = Direct.statements
    async with deciding(db, how) as s:
        opened = await AlertRepo(s).raise_all(cohort, alerts, 4, NOW)
    writes = len([q for q in statements if "outbox" in q or "alerts" in q])
    writes += Direct.statements - direct
    assert sorted(opened) == ["class_gap:spelen", "student_gap:7:samenwerken"]
    assert open_already not in opened.values()
    # PostgreSQL: one round trip; SQLite (in process): each alert's insert, then the two
    # messages of each opened one
    assert writes == (1 if db.engine.dialect.name == "postgresql" else 3 + 4)
    rows = await _queued(db)
    assert sorted(r.dedupe_key for r in rows) == sorted(
        f"alert:{alert_id}:{fp}:1:{chat}" for fp, alert_id in opened.items() for chat in (501, 502)
    )
    for r in rows:  # the button names the alert its message is about: "al:<id>:<gap>:ack"
        about = r.dedupe_key.removeprefix("alert:").rsplit(":", 2)[0]
        assert r.payload["buttons"][0][0]["data"] == f"al:{about}:ack"
    async with db.reading() as s:
        repo = AlertRepo(s)
        stored = {fp: await repo.get(alert_id) for fp, alert_id in opened.items()}
    assert {fp: (a.kind, a.skill, a.raised_week, a.evidence["student"]) for fp, a in stored.items()
            if a} == {
        "student_gap:7:samenwerken": ("student_gap", "samenwerken", 4, 7),
        "class_gap:spelen": ("class_gap", "spelen", 4, None),
    }  # fmt: skip
