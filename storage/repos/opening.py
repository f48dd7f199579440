"""Opening rounds in bulk: the rows a round needs, written for many cohorts or students at once.

Each write is one INSERT … ON CONFLICT DO NOTHING executed with all its rows as parameters:
SQLAlchemy's "insertmanyvalues" compiles the one-row statement once (cached) and sends it as
multi-row INSERTs, 3-7x faster here than compiling a VALUES clause of every row each time.
The unique constraints decide what is new, so two instances opening the same rounds write
each row once."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Participation, Prompt, Round, utcnow
from storage.records import RoundRecord

_ROUNDS: Table = Round.__table__  # type: ignore[assignment]
_ROUND_COLUMNS = ("id", "cohort_id", "week", "kind", "status", "due_at", "closed_at")


def _insert(session: AsyncSession, table: Any) -> Any:
    """INSERT in the session's dialect (for ON CONFLICT)."""
    name = session.get_bind().dialect.name
    return (postgresql if name == "postgresql" else sqlite).insert(table)


class OpeningRepo:
    """Bulk writes of `bot.schedule.rounds`, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def rounds(self, rows: Sequence[tuple[int, int, str, datetime]]) -> list[RoundRecord]:
        """Open the rounds of many (cohort, week, kind, due_at) at once; returns those created
        now. The unique constraint decides, as in `RoundRepo.insert_if_absent`: an instance
        racing with the same rows waits for the other's commit and creates none of them (give
        every instance the same order, so that they wait rather than deadlock)."""
        if not rows:
            return []
        table, now = _ROUNDS, utcnow()
        values = [
            {"cohort_id": c, "week": w, "kind": k, "due_at": d, "status": "open", "created_at": now}
            for c, w, k, d in rows
        ]  # fmt: skip
        statement = (
            _insert(self.session, table)
            .on_conflict_do_nothing(index_elements=["cohort_id", "week", "kind"])
            .returning(*(table.c[name] for name in _ROUND_COLUMNS))
        )
        return [RoundRecord(*row) for row in await self.session.execute(statement, values)]

    async def close_others(
        self, kept: Sequence[RoundRecord], now: datetime
    ) -> dict[int, list[int]]:
        """`RoundRepo.close_others` for many new rounds at once (at most one per cohort and
        kind): one UPDATE per kind; new round id -> the ids it closed."""
        closed: dict[int, list[int]] = {r.id: [] for r in kept}
        by_kind: dict[str, dict[int, int]] = {}
        for r in kept:
            by_kind.setdefault(r.kind, {})[r.cohort_id] = r.id
        table = _ROUNDS
        for kind, keep in by_kind.items():
            result = await self.session.execute(
                update(table)
                .where(
                    table.c.kind == kind,
                    table.c.status == "open",
                    table.c.cohort_id.in_(list(keep)),
                    table.c.id.not_in(list(keep.values())),
                )
                .values(status="closed", closed_at=now)
                .returning(table.c.id, table.c.cohort_id)
            )
            for round_id, cohort_id in result:
                closed[keep[cohort_id]].append(round_id)
        return closed

    async def prompts(
        self, pairs: Sequence[tuple[int, int]], question_key: str
    ) -> dict[tuple[int, int], str]:
        """`PromptRepo.ensure` for many (round id, member id) at once, e.g. the classes of
        every cohort opened together: (round id, member id) -> token. One multi-row insert
        that returns the new tokens; the existing ones (a round opened again) are read after."""
        if not pairs:
            return {}
        now = utcnow()
        rows = [
            {
                "token": secrets.token_urlsafe(9),
                "round_id": round_id,
                "member_id": member_id,
                "question_key": question_key,
                "created_at": now,
            }
            for round_id, member_id in pairs
        ]
        statement = (
            _insert(self.session, Prompt.__table__)
            .on_conflict_do_nothing(index_elements=["round_id", "member_id", "question_key"])
            .returning(Prompt.round_id, Prompt.member_id, Prompt.token)
        )
        result = await self.session.execute(statement, rows)
        tokens = {(r, m): token for r, m, token in result.all()}  # fetchall: not row by row
        missing = [pair for pair in pairs if pair not in tokens]
        if missing:
            found = await self.session.execute(
                select(Prompt.round_id, Prompt.member_id, Prompt.token).where(
                    Prompt.round_id.in_({r for r, _m in missing}),
                    Prompt.question_key == question_key,
                    Prompt.member_id.in_({m for _r, m in missing}),
                )
            )
            tokens.update({(r, m): token for r, m, token in found})
        return tokens

    async def participations(self, pairs: Sequence[tuple[int, int]]) -> None:
        """Participations of many (round id, member id) at once; existing ones are kept."""
        if not pairs:
            return
        rows = [{"round_id": r, "member_id": m} for r, m in pairs]
        statement = _insert(self.session, Participation.__table__).on_conflict_do_nothing(
            index_elements=["round_id", "member_id"]
        )
        await self.session.execute(statement, rows)  # many rows: one statement, cached
