"""SQLite run in the event loop's own thread, behind SQLAlchemy's aiosqlite dialect.

aiosqlite runs each connection in a thread of its own: every statement is four hand-offs to
that thread and back (cursor, execute, fetch, close), which cost a tap more CPU than its SQL.
Here the `sqlite3` calls run directly in the loop; the dialect (`sqlite+aiosqlite`, what users
configure) adapts this connection as it adapts aiosqlite's (`create_async_engine(...,
async_creator=...)`).

The danger of one thread: a connection waiting on SQLite's busy timeout would block the loop,
so the connection holding the write lock (which needs the loop to finish) could never commit.
Hence no statement here ever waits inside SQLite (busy_timeout 0):

- every transaction begins with `BEGIN IMMEDIATE` (`begin()`, called when `Database.transaction`
  opens one, or from the engine's "begin" event for other connections), so it holds the write
  lock from its first statement and nothing in or out of the process can make its later
  statements busy (WAL readers never block a writer);
- the engine's transactions take turns through an asyncio lock (`WriteTurn`) before BEGIN: a
  waiting transaction sleeps in the loop, it does not spin;
- a BEGIN refused because another process writes is retried after an asynchronous sleep,
  until the busy timeout (30 s, as before); then the same "database is locked" error as
  aiosqlite gave.

The price: a process's transactions, reads included, run one at a time. None stays open
across a network call (handlers reply after the commit), so a turn lasts a few statements.

Since nothing but `begin()` ever waits, SQLAlchemy's adapter is given cursors that call
`sqlite3` straight from its greenlet (`adapt`): the stock adapter awaits every cursor step
(open, execute and fetch, close; and each commit) through a greenlet switch to the loop and
back and an asyncio lock, for calls that return at once (docs/benchmarks.md §2, ingest8).
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import Any, cast

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
)
from sqlalchemy.util.concurrency import await_

BUSY_TIMEOUT = 30.0  # seconds a transaction may wait for the write lock, as before
_FIRST_BACKOFF = 0.001  # seconds; doubled after each refused BEGIN, up to _MAX_BACKOFF
_MAX_BACKOFF = 0.05
# Run once per connection, outside any transaction: WAL lets readers work beside the writer;
# foreign keys are off in SQLite unless asked; busy_timeout 0: see the module's docstring.
_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=0",
)


def locked_error() -> sqlite3.OperationalError:
    """The error SQLite (and aiosqlite) gave when the busy timeout ran out."""
    return sqlite3.OperationalError("database is locked")


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


async def _retry_busy(action: Callable[[], object], deadline: float) -> None:
    """Run `action` until SQLite stops refusing it as busy, sleeping in the loop between tries;
    past `deadline` (time.monotonic) raise "database is locked"."""
    backoff = _FIRST_BACKOFF
    while True:
        try:
            action()
            return
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
            if time.monotonic() + backoff > deadline:
                raise locked_error() from error
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, _MAX_BACKOFF)


class WriteTurn:
    """The engine's transactions one at a time: an asyncio lock per event loop (an engine
    may outlive a loop, a lock may not), and the task whose transaction has the turn."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._owners: weakref.WeakKeyDictionary[asyncio.Lock, asyncio.Task[Any]] = (
            weakref.WeakKeyDictionary()
        )

    async def take(self, within: float) -> asyncio.Lock:
        """Wait for the turn (at most `within` s, then "database is locked")."""
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        task = asyncio.current_task()
        if lock.locked() and task is not None and self._owners.get(lock) is task:
            # A second transaction inside the first, in one task, would wait for itself.
            raise RuntimeError("a transaction opened while this task's transaction is open")
        if lock.locked():
            try:
                async with asyncio.timeout(within):  # (no task of its own, unlike wait_for)
                    await lock.acquire()
            except TimeoutError:
                raise locked_error() from None
        else:  # the usual case: no timer to set and cancel
            await lock.acquire()
        if task is not None:
            self._owners[lock] = task
        return lock


class Cursor:
    """An sqlite3 cursor with the awaitable methods the dialect's adapter calls."""

    arraysize = 1

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def raw(self) -> sqlite3.Cursor:
        return self._cursor

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Cursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> Cursor:
        self._cursor.executemany(sql, seq)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size or self.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid


class Connection:
    """One sqlite3 connection, used only from the loop; holds the engine's turn from
    `begin()` until the transaction's commit or rollback (or the connection's close)."""

    def __init__(self, connection: sqlite3.Connection, turn: WriteTurn, timeout: float) -> None:
        self._connection = connection
        self._turn = turn
        self._timeout = timeout
        self._holding: asyncio.Lock | None = None

    async def begin(self) -> None:
        """Take the engine's turn, then the database's write lock (`BEGIN IMMEDIATE`)."""
        deadline = time.monotonic() + self._timeout
        self._holding = await self._turn.take(self._timeout)
        try:
            await _retry_busy(partial(self._connection.execute, "BEGIN IMMEDIATE"), deadline)
        except BaseException:
            self._release()
            raise

    @property
    def in_transaction(self) -> bool:
        """A transaction begun here is open (`begin()` ran; no commit or rollback since)."""
        return self._connection.in_transaction

    @property
    def raw(self) -> sqlite3.Connection:
        """The `sqlite3` connection, for statements run without SQLAlchemy's execution
        (`storage.repos.core.rows`): only inside a transaction begun here."""
        return self._connection

    def _release(self) -> None:
        if self._holding is not None:
            self._holding.release()
            self._holding = None

    def cursor(self) -> Cursor:
        return Cursor(self._connection.cursor())

    async def commit(self) -> None:
        self.commit_now()

    def commit_now(self) -> None:
        """Commit (never waits: the transaction holds the write lock) and give up the turn."""
        try:
            self._connection.commit()
        finally:
            if not self._connection.in_transaction:
                self._release()

    async def rollback(self) -> None:
        self.rollback_now()

    def rollback_now(self) -> None:
        try:
            self._connection.rollback()
        finally:
            self._release()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's terminate, also from garbage collection)."""
        try:
            self._connection.close()
        finally:
            self._release()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._connection.create_function(*args, **kwargs)

    @property
    def isolation_level(self) -> str | None:
        return None  # sqlite3 begins nothing itself: `begin()` does

    @property
    def _tx(self) -> Any:
        # The dialect's isolation-level setter reaches into aiosqlite's thread queue. Every
        # transaction here is BEGIN IMMEDIATE (serializable); no other level is offered.
        raise sqlite3.NotSupportedError("isolation levels are fixed on this SQLite driver")


def connector(
    database: str, turn: WriteTurn, timeout: float = BUSY_TIMEOUT
) -> Callable[[], Awaitable[Connection]]:
    """The `async_creator` of an engine on the file `database`."""

    async def connect() -> Connection:
        raw = sqlite3.connect(database, timeout=0, isolation_level=None, check_same_thread=False)
        deadline = time.monotonic() + timeout
        try:
            for pragma in _PRAGMAS:  # changing the journal mode needs the file to itself
                await _retry_busy(partial(raw.execute, pragma), deadline)
        except BaseException:
            raw.close()
            raise
        return Connection(raw, turn, timeout)

    return connect


class _DirectCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's aiosqlite cursor adapter, opening and closing the `sqlite3` cursor
    directly and running a statement with its fetch in one await: no statement here waits
    (see the module). The one await stays because `AsyncConnection.execute` requires one. The
    adapter's lock per connection is not needed: a step runs to its end before another task
    runs."""

    __slots__ = ()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    def _raw(self) -> sqlite3.Cursor:
        return cast(Cursor, self._cursor).raw

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._run(operation, () if parameters is None else parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _run(self, operation: Any, parameters: Any) -> Any:
        raw = self._raw()
        raw.execute(operation, parameters)
        if raw.description:
            self._rows = collections.deque(raw.fetchall())
        return self._cursor

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            return await_(self._run_many(operation, seq_of_parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _run_many(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._raw().executemany(operation, seq_of_parameters)
        return self._cursor

    def close(self) -> None:
        self._rows.clear()
        self._raw().close()


class _DirectConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection adapter with `_DirectCursor`s and a direct commit
    and rollback (BEGIN stays awaited: it may wait for the turn or the write lock)."""

    __slots__ = ()
    _cursor_cls = _DirectCursor

    def commit(self) -> None:
        try:
            self._connection.commit_now()
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        try:
            self._connection.rollback_now()
        except Exception as error:
            self._handle_exception(error)


def adapt(dbapi: Any, connection: Connection) -> AsyncAdapt_aiosqlite_connection:
    """`connection` as the dialect's DBAPI connection (what its `connect` would return)."""
    return _DirectConnection(dbapi, cast(Any, connection))
