"""One connection kept open for `Database.reading`, the alert check's reads.

The check after a completed reflection reads everything in one statement on the driver's
connection (`storage.repos.gap_query`). Taking a pooled connection for it cost more than the
statement's own Python side: the pool's checkout and checkin with their events, the session's
begin and close (~0.2 ms of a ~2.5 ms check, docs/benchmarks.md §3 eleventh step). So
`Database.reading` runs its session on this connection when no other read holds it, and puts
the driver in `session.info` (`READER`) for that one statement; a second read at the same
moment goes through the pool as before. On PostgreSQL the check's guarded writes (resolving,
raising: each whole on its own) run on it too, in autocommit.

The connection reads outside any transaction, as `Database.reading` does: AUTOCOMMIT on
PostgreSQL, no BEGIN on SQLite (WAL: it never waits for the writer). PostgreSQL: one idle for
`ping_after` seconds is pinged before use, as the pool pings its own (`storage.db`); one that
failed a read is thrown away, so that a dead connection costs one check, never the next.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

READER = "mentorbot_reader"  # session.info: the kept connection's driver (`GapQuery.state`)


class HeldReader:
    """The kept connection, lent to one read at a time (`take`, then `give_back`)."""

    def __init__(
        self, engine: AsyncEngine, options: dict[str, Any], ping_after: float | None
    ) -> None:
        self._engine = engine
        self._options = options  # what `Database.reading`'s sessions run with
        self._ping_after = ping_after  # None: never pinged (SQLite: a file does not drop)
        self._connection: AsyncConnection | None = None
        self._busy = False
        self._used_at = 0.0

    async def take(self) -> AsyncConnection | None:
        """The kept connection, or None while another read holds it."""
        if self._busy:
            return None
        self._busy = True
        try:
            return await self._ready()
        except BaseException:
            self._busy = False
            raise

    async def give_back(self, failed: bool) -> None:
        """End the loan; after a failed read the connection is thrown away (it may have died
        or been left mid-statement by a cancelled task)."""
        try:
            if failed:
                # let go of it at once, so no later read takes it while it is thrown away
                connection, self._connection = self._connection, None
                if connection is not None:
                    await asyncio.shield(asyncio.ensure_future(_throw_away(connection)))
        finally:
            self._used_at = time.monotonic()
            self._busy = False

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    async def _ready(self) -> AsyncConnection:
        connection = self._connection
        if connection is not None and (
            connection.invalidated or connection.closed
            or (self._idle_too_long() and not await _answers(connection))
        ):  # fmt: skip
            self._connection = None
            await _throw_away(connection)
            connection = None
        if connection is None:
            # a pooled connection: the pool pings it first if it was idle (`storage.db`)
            connection = await self._engine.connect()
            await connection.execution_options(**self._options)
            self._connection = connection
        return connection

    def _idle_too_long(self) -> bool:
        after = self._ping_after
        return after is not None and time.monotonic() - self._used_at >= after


async def _throw_away(connection: AsyncConnection) -> None:
    if not connection.closed:
        await connection.invalidate()  # the pool forgets it and closes the driver's
        await connection.close()


async def _answers(connection: AsyncConnection) -> bool:
    """Whether the connection answers a ping (SQLAlchemy's own, as the pool's pre-ping)."""
    try:
        await connection.exec_driver_sql("SELECT 1")
        await connection.rollback()  # autobegun by SQLAlchemy (no BEGIN was sent: AUTOCOMMIT)
    except DBAPIError:
        return False
    return True
