"""A resolving alert check's one statement (`AlertRepo.resolve_rules` in
`Database.one_statement`), on a SQLite file and PostgreSQL: the gaps that got better are
resolved, each once, and an alert resolved meanwhile (another instance, an agreement) keeps
its resolution."""

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
