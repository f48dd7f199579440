"""evaluate_cohort on stored scenarios, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.gaps.alerts import evaluate_cohort
from storage.db import Database
from storage.models import Alert, OutboxMessage
from storage.repos import MemberRepo
from storage.repos.alerts import AlertRepo
from tests.factories import add_mentor, add_student, make_cohort
from tests.mentor.helpers import PLAN, add_week, week_time


async def outbox_keys(db: Database) -> list[str]:
    async with db.transaction() as s:
        return sorted(await s.scalars(select(OutboxMessage.dedupe_key)))


async def test_recurring_student_gap_lifecycle(db: Database) -> None:
    async with db.transaction() as s:
        cohort = await make_cohort(s, plan=PLAN)
        await add_mentor(s, cohort, "Mentor Marit", 900)
        anna = await add_student(s, cohort, "Anna de Vries", 101)
        bram = await add_student(s, cohort, "Bram", 102)
        cem = await add_student(s, cohort, "Cem", 103)

    def week_of(anna_klimaat: int) -> dict[int, dict[str, int]]:
        return {
            anna: {"klimaat": anna_klimaat, "samenwerken": 4},
            bram: {"klimaat": 4, "samenwerken": 4},
            cem: {"klimaat": 4, "samenwerken": 3},
        }

    async def week(n: int, rating: int, **kw: object) -> list[int]:
        async with db.transaction() as s:
            await add_week(s, cohort, n, week_of(rating), **kw)  # type: ignore[arg-type]
            return await evaluate_cohort(s, cohort, week_time(n))

    assert await week(1, 1) == []
    raised = await week(2, 1, texts={anna: "Ik wist niet wat ik moest doen toen een kind viel."})
    assert len(raised) == 1
    [alert_id] = raised
    async with db.transaction() as s:
        alert = await AlertRepo(s).get(alert_id)
        rows = list(await s.scalars(select(OutboxMessage)))
    assert alert is not None and alert.fingerprint == f"student_gap:{anna}:klimaat"
    assert alert.member_id == anna and alert.skill == "klimaat" and alert.raise_count == 1
    [row] = rows
    assert row.dedupe_key == f"alert:{alert_id}:1:900" and row.chat_id == 900
    assert row.kind == "alert"
    text = row.payload["text"]
    assert "Anna de Vries" in text and "Zorgt voor een veilig pedagogisch klimaat" in text
    # issue 15: the weeks and both views side by side, and the next step
    assert "Weken 1 · 2\nZelf: 1 · 1 — Werkplek: nog geen observaties" in text
    assert "kind viel" in text and text.endswith("Meer: /student Anna de Vries")
    datas = [b["data"] for line in row.payload["buttons"] for b in line]
    assert datas == [f"al:{alert_id}:{action}" for action in ("ack", "talk", "deal", "mute")]
    labels = [b["text"] for line in row.payload["buttons"] for b in line]
    assert labels == ["Gezien", "Bespreken", "Afspraak", "Stil 2 weken"]

    # evaluating again (another student completes, a restart, another instance) adds nothing
    async with db.transaction() as s:
        assert await evaluate_cohort(s, cohort, week_time(2)) == []
    assert await outbox_keys(db) == [f"alert:{alert_id}:1:900"]

    async with db.transaction() as s:
        await AlertRepo(s).acknowledge(alert_id, "Mentor Marit", 2, week_time(2))
    assert await week(3, 2, helps={anna: "klimaat"}) == []
    assert await week(4, 1) == []
    assert await week(5, 1) == [alert_id]  # 3 more rounds after "Gezien": raised again
    async with db.transaction() as s:
        alert = await AlertRepo(s).get(alert_id)
    assert alert is not None and alert.raise_count == 2 and alert.status == "open"
    assert await outbox_keys(db) == [f"alert:{alert_id}:1:900", f"alert:{alert_id}:2:900"]

    assert await week(6, 4) == []
    async with db.transaction() as s:
        assert (await AlertRepo(s).get(alert_id)).status == "open"  # type: ignore[union-attr]
    assert await week(7, 4) == []
    async with db.transaction() as s:
        row = await s.get(Alert, alert_id)
        assert row is not None
        assert row.status == "resolved" and row.open_key is None
        assert row.resolved_at == week_time(7) and not row.resolution_reported
    assert len(await outbox_keys(db)) == 2


async def test_two_evaluations_racing_raise_one_alert(db: Database) -> None:
    async with db.transaction() as s:
        cohort = await make_cohort(s, plan=PLAN)
        await add_mentor(s, cohort, "Mentor Marit", 900)
        anna = await add_student(s, cohort, "Anna", 101)
        for n in (1, 2):
            await add_week(s, cohort, n, {anna: {"klimaat": 1, "samenwerken": 4}})

    async def evaluate() -> int:  # two instances' checks at once, each in its own transaction
        async with db.transaction() as s:
            return len(await evaluate_cohort(s, cohort, week_time(2)))

    assert sorted(await asyncio.gather(evaluate(), evaluate())) == [0, 1]
    async with db.transaction() as s:
        assert len(list(await s.scalars(select(Alert)))) == 1


async def test_open_round_does_not_make_students_silent(db: Database) -> None:
    async with db.transaction() as s:
        cohort = await make_cohort(s, plan=PLAN)
        await add_mentor(s, cohort, "Mentor Marit", 900)
        ids = [await add_student(s, cohort, f"S{i}", 200 + i) for i in range(4)]
        ok = {"klimaat": 4, "samenwerken": 4}
        for n in (1, 2, 3, 4):
            await add_week(s, cohort, n, {i: ok for i in ids})
        # week 5 is open and only one student has completed it so far
        await add_week(s, cohort, 5, {ids[0]: ok}, enrolled=ids)
        assert await evaluate_cohort(s, cohort, week_time(5)) == []


async def test_no_new_alert_for_a_student_who_left(db: Database) -> None:
    async with db.transaction() as s:
        cohort = await make_cohort(s, plan=PLAN)
        await add_mentor(s, cohort, "Mentor Marit", 900)
        anna = await add_student(s, cohort, "Anna", 101)
        for n in (1, 2):
            await add_week(s, cohort, n, {anna: {"klimaat": 1, "samenwerken": 4}})
        await MemberRepo(s).set_status(anna, "stopped")
        assert await evaluate_cohort(s, cohort, week_time(2)) == []
