"""Core statements on a session's connection, for the statements of every update.

`session.execute` runs even a Core statement through the ORM's statement and result handling
(its compile state, the identity map's bookkeeping, ORM result rows): about a fifth of a
statement's CPU on the hot path (docs/benchmarks.md §2, ingest7). A statement that names
tables' columns and is built once (with `bindparam`) needs none of it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, Executable
from sqlalchemy.ext.asyncio import AsyncSession


async def execute(
    session: AsyncSession, statement: Executable, params: Any = None
) -> CursorResult[Any]:
    """Run `statement` on the session's connection, in its transaction. Pending ORM changes
    are flushed first, as `session.execute` would (its autoflush): a row added and not yet
    flushed must be there for a statement that reads or references it."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    connection = await session.connection()
    return await connection.execute(statement, params)
