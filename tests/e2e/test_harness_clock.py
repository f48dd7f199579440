"""The tests own the bot's clock: nothing opens a round behind a test's back, and moving the
harness's clock opens what falls due on the way, on time."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from storage.models import Round
from tests.harness import HARNESS_START, Harness


async def rounds_of(h: Harness, cohort_id: int) -> list[tuple[int, str, str]]:
    async with h.db.transaction() as s:
        rows = await s.execute(
            select(Round.week, Round.kind, Round.status)
            .where(Round.cohort_id == cohort_id)
            .order_by(Round.due_at)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_a_class_that_started_months_ago_gets_no_rounds_until_the_test_moves_time(
    h: Harness,
) -> None:
    old = await h.cohort("PW1A", start=date(2026, 3, 2))
    ida = h.api.add_user("Ida")
    await h.join(ida, await h.code(old))
    assert "nog geen vragen van de week" in (await h.say(ida, "/status")).text
    assert await rounds_of(h, old) == []  # no skipped weeks written, nothing opened
    assert h.now() == HARNESS_START


async def test_advancing_the_clock_opens_the_next_monday_s_expectations(h: Harness) -> None:
    cohort_id = await h.cohort()  # started Tuesday 2026-09-01; the bot lives on 2026-09-08
    ida = h.api.add_user("Ida")
    await h.join(ida, await h.code(cohort_id))
    before = {(week, kind) for week, kind, _ in await rounds_of(h, cohort_id)}
    mark = h.api.mark(ida)
    opened = await h.advance(timedelta(days=7))
    assert h.now() == HARNESS_START + timedelta(days=7)
    new = {(week, kind) for week, kind, _ in await rounds_of(h, cohort_id)} - before
    assert (3, "expectations") in new  # Monday 2026-09-14 is week 3
    assert any(o.round.week == 3 and o.round.kind == "expectations" for o in opened)
    message = await h.api.wait_for_message(ida, lambda m: "Week 3" in (m.text or ""), since=mark)
    assert message.text is not None
