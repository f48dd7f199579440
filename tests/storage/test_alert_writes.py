"""The alert check's writes, each one statement built once (`storage.repos.alerts`), on a SQLite
file and PostgreSQL: a resolving check's `resolve_rules` in `Database.one_statement` resolves
the gaps that got better, each once, and an alert resolved meanwhile (another instance, an
agreement) keeps its resolution; `raise_new` opens a gap once and reads back as raised."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.db import Database
from storage.repos.alerts import AFTER_AGREEMENT, AlertRepo
from tests.factories import make_cohort

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _raise(db: Database, cohort_id: int, fingerprint: str) -> int:
    async with db.transaction() as s:
        alert_id = await AlertRepo(s).raise_new(
            cohort_id, fingerprint, kind="silence", member_id=None, skill=None,
            evidence={}, week=3, now=NOW,
        )  # fmt: skip
    assert alert_id is not None
    return alert_id


async def test_resolving_in_one_statement_resolves_each_open_alert_once(db: Database) -> None:
    cohort = await make_cohort(db)
    first, second, agreed = [await _raise(db, cohort, f"silence:{n}:-") for n in (1, 2, 3)]
    async with db.transaction() as s:  # resolved after an agreement, a moment before
        assert await AlertRepo(s).resolve(agreed, NOW, AFTER_AGREEMENT, 3)
    async with db.one_statement() as s:
        resolved = await AlertRepo(s).resolve_rules([first, second, agreed], NOW)
    assert sorted(resolved) == [first, second]
    async with db.one_statement() as s:  # the same decision applied again changes nothing
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
