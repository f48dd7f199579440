"""Statements whose SQL differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import FromClause
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_name(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def insert_statement(session: AsyncSession, table: FromClause) -> Any:
    """The dialect's INSERT, with its ON CONFLICT clauses, for the session's database."""
    return insert_for(dialect_name(session), table)


def insert_for(dialect: str, table: FromClause) -> Any:
    """The INSERT of the dialect named `dialect` (for a statement built once per dialect)."""
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


async def insert_ignore(
    session: AsyncSession,
    table: FromClause,
    rows: Sequence[dict[str, Any]],
    conflict: Sequence[str],
) -> int:
    """INSERT … ON CONFLICT DO NOTHING; returns how many rows were really inserted.

    The unique constraint, not a prior SELECT, decides: two instances racing to create the
    same round both run this and exactly one row exists afterwards."""
    if not rows:
        return 0
    statement = (
        insert_statement(session, table)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=list(conflict))
    )
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
