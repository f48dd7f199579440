"""Engine and sessions. SQLite runs in the event loop's thread (`storage.sqlite_inloop`): WAL,
foreign keys, and every transaction `BEGIN IMMEDIATE`, one at a time per engine."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, event, literal_column, text, true
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session as SyncSession
from sqlalchemy.util.concurrency import await_, greenlet_spawn

from storage import sqlite_inloop
from storage.held_reader import READER, HeldReader

# The one session type the rest of the code names, so bot/ and handlers/ never import SQLAlchemy.
Session = AsyncSession


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


# PostgreSQL: a pooled connection idle this long is pinged before use (a server restart or a
# dropped connection shows there, not in the caller's transaction). Not every checkout: a ping
# is a round trip, a quarter of a quiet gap check's time (docs/benchmarks.md §3); a connection
# back in the pool a moment ago was alive a moment ago, and if it died since, its transaction
# fails as a disconnect, the pool drops its connections and the caller's retry (the inbox, the
# sender, the scheduler's next tick) gets fresh ones.
PING_AFTER = 5.0  # seconds
WRITER = "mentorbot_writer"  # session.info: SQLite's writer connection (`Database._writing`)
READING = "mentorbot_reading"  # SQLite: the execution option of `Database.reading`'s sessions
# constants in the SQL, not parameters: a parameter's type is known only when bound
_SYNC_OFF = literal_column("set_config('synchronous_commit', 'off', true)").is_not(None)


def not_durable(dialect: str) -> ColumnElement[bool]:
    """A condition (always true) for the WHERE of a derived write, one that the next alert
    check writes again if it is lost: on PostgreSQL it turns `synchronous_commit` off for the
    statement's transaction (set_config, local), so that its commit does not wait for the
    disk (0.3-1.4 ms, docs/benchmarks.md §3). Evaluated for each row the statement writes, so
    before the first (a statement that writes nothing has no commit to wait for). Only a
    server crash within a moment can lose such a commit, never an instance's crash; and any
    later durable commit, such as the sender's claim of an outbox row written with it,
    flushes it first (the log is one sequence). SQLite in WAL mode commits without a flush
    already (synchronous=NORMAL)."""
    return true() if dialect == "sqlite" else _SYNC_OFF


def not_durable_returning(dialect: str) -> tuple[ColumnElement[Any], ...]:
    """`not_durable` for an INSERT (which has no WHERE): a RETURNING column, evaluated for
    each row inserted (none on SQLite)."""
    return () if dialect == "sqlite" else (_SYNC_OFF,)


def make_engine(
    url: str,
    *,
    busy_timeout: float | None = None,
    ping_after: float = PING_AFTER,
    **kwargs: Any,
) -> AsyncEngine:
    """Create the async engine; for SQLite also the folder of the file. `busy_timeout`
    (SQLite only): seconds a transaction waits for the write lock, 30 unless given.
    `ping_after` (PostgreSQL only): see PING_AFTER."""
    if not is_sqlite(url):
        engine = create_async_engine(url, **kwargs)
        _ping_when_idle(engine, ping_after)
        return engine
    database = make_url(url).database or ":memory:"
    if database != ":memory:":
        database = str(Path(database).expanduser())
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    timeout = sqlite_inloop.BUSY_TIMEOUT if busy_timeout is None else busy_timeout
    connect = sqlite_inloop.connector(database, sqlite_inloop.WriteTurn(), timeout)

    def creator() -> Any:  # in the pool's greenlet, as `async_creator`'s wrapper would be
        return sqlite_inloop.adapt(engine.sync_engine.dialect.dbapi, await_(connect()))

    engine = create_async_engine(url, creator=creator, **kwargs)
    event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


def _ping_when_idle(engine: AsyncEngine, after: float) -> None:
    """SQLAlchemy's `pool_pre_ping`, only for connections idle `after` seconds or more: a
    failed ping raises DisconnectionError, on which the pool opens a fresh connection."""
    pool, dialect = engine.sync_engine.pool, engine.sync_engine.dialect

    def returned(_dbapi: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    def checkout(dbapi: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("returned_at")
        if since is None or time.monotonic() - since < after:
            return  # new, or back in the pool a moment ago
        try:
            alive = dialect.do_ping(dbapi)
        except Exception as error:
            raise DisconnectionError("idle connection did not answer a ping") from error
        if not alive:
            raise DisconnectionError("idle connection did not answer a ping")

    event.listen(pool, "checkin", returned)
    event.listen(pool, "checkout", checkout)


def _commit_and_close(session: SyncSession) -> None:
    try:
        session.commit()
    finally:
        session.close()  # after a failed commit: rolls back and gives the connection back


async def _end_writing(
    session: AsyncSession, driver: sqlite_inloop.Connection, commit: bool
) -> None:
    """Commit (or roll back) a `_writing` transaction and give up the turn. The ORM and
    SQLAlchemy's connection end their part first, if a statement began one: the session's
    commit flushes what it holds and then commits the connection's transaction itself.
    Nothing here waits, so no other task's transaction can begin before the turn is free."""
    sync = session.sync_session
    writer = session.info[WRITER]
    try:
        if sync.in_transaction():
            await greenlet_spawn(_commit_and_close if commit else SyncSession.close, sync)
        if writer.in_transaction():  # a Core statement began SQLAlchemy's own
            await (writer.commit() if commit else writer.rollback())
        if commit and driver.in_transaction:  # only `rows` ran
            driver.commit_now()
    finally:
        driver.rollback_now()  # what is left open after a failure, and the turn (if held)


def _begin_immediate(connection: Connection) -> None:
    # SQLAlchemy's documented recipe for SQLite (the driver begins nothing itself), run
    # through the driver so that waiting for the write lock sleeps in the loop.
    if connection.get_execution_options().get(READING):
        return  # `Database.reading`: each statement its own (autocommit) read
    driver = connection.connection.driver_connection
    if driver.in_transaction:  # type: ignore[union-attr]
        return  # the writer's transaction, begun by `Database.transaction` (its turn is held)
    try:
        await_(driver.begin())  # type: ignore[union-attr]
    except sqlite3.OperationalError as error:  # wrapped as a failed statement's would be
        raise OperationalError("BEGIN IMMEDIATE", None, error) from error


class Database:
    """The engine and its session factory: one session per unit of work."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self._sqlite = is_sqlite(url)  # parsed once: asked on every alert check
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # sessions for reads outside any transaction (`reading`)
        outside: dict[str, Any] = (
            {READING: True} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"}
        )
        self._readers = async_sessionmaker(self.engine.execution_options(**outside))
        ping = None if self._sqlite else engine_kwargs.get("ping_after", PING_AFTER)
        self._held = HeldReader(self.engine, outside, ping)  # `reading`'s kept connection
        self._writer: AsyncConnection | None = None  # SQLite: see `_writing`

    @property
    def is_sqlite(self) -> bool:
        return self._sqlite

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error.
        One transaction per update: its frame is a tap's largest cost after its statements
        (docs/benchmarks.md §2, ingest9 and ingest10)."""
        return self._writing() if self._sqlite else self._transaction()

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        """SQLite: the transaction on the engine's one writer connection, begun at once.

        The engine's transactions run one at a time anyway (its write turn, see
        `storage.sqlite_inloop`), so one connection serves them all: no pool checkout and
        return, no SQLAlchemy transaction unless a statement needs one. `BEGIN IMMEDIATE`
        runs here, with the turn (waiting for it as before), and the turn is held until the
        end, so no other task's session ever touches the writer meanwhile. A transaction
        whose statements all run through `storage.repos.core.rows` costs a quarter of the
        pooled one's CPU (~60 µs against ~250, docs/benchmarks.md §2 ingest10)."""
        writer = self._writer
        if writer is None or writer.invalidated:  # (invalidated: SQLAlchemy saw it die)
            writer = await self._open_writer()
        fairy = writer.sync_connection.connection  # type: ignore[union-attr]
        driver = cast(sqlite_inloop.Connection, fairy.driver_connection)
        try:
            await driver.begin()  # the turn, then the write lock
        except sqlite3.OperationalError as error:  # as `_begin_immediate` raises it
            raise OperationalError("BEGIN IMMEDIATE", None, error) from error
        session = self._writer_session(writer)
        try:
            yield session
        except BaseException:
            await asyncio.shield(asyncio.ensure_future(_end_writing(session, driver, False)))
            raise
        await _end_writing(session, driver, True)

    def _writer_session(self, writer: AsyncConnection) -> AsyncSession:
        session = AsyncSession(bind=writer, expire_on_commit=False)
        session.info[WRITER] = writer  # `storage.repos.core`: statements on it, not via the ORM
        return session

    async def _open_writer(self) -> AsyncConnection:
        old = self._writer
        connection = await self.engine.connect()  # kept until `dispose`
        if self._writer is old:
            self._writer = connection
            if old is not None:
                await old.close()
        else:  # another task opened one meanwhile
            await connection.close()
        assert self._writer is not None
        return self._writer

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        """PostgreSQL: what `async with sessions() as s, s.begin()` does, in one greenlet
        switch where that took three and a task: begin has no I/O (the first statement takes
        the connection), commit and close run together; an error closes as AsyncSession's
        exit does, shielded, which rolls back."""
        session = self.sessions()
        session.sync_session.begin()
        try:
            yield session
        except BaseException:
            await asyncio.shield(asyncio.ensure_future(session.close()))
            raise
        await greenlet_spawn(_commit_and_close, session.sync_session)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only, outside any transaction: each statement sees the latest
        commits, as each does in a READ COMMITTED transaction. PostgreSQL: no BEGIN and COMMIT
        round trips (autocommit). SQLite: no BEGIN IMMEDIATE, so the read neither waits for
        the engine's write turn nor holds it (WAL: a reader never waits for a writer).
        Writes belong in `transaction()`: here each would commit on its own.

        The session runs on a connection kept for these reads (`storage.held_reader`: no
        pool checkout and return), unless another read holds it; it carries the driver for
        the alert check's one statement (`READER`)."""
        connection = await self._held.take()
        if connection is None:
            async with self._readers() as session:
                yield session
            return
        failed = True
        try:
            async with AsyncSession(bind=connection) as session:
                session.info[READER] = connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]
                yield session
            failed = False
        finally:
            await self._held.give_back(failed)

    @property
    def reads_autocommit(self) -> bool:
        """`reading`'s sessions are `autocommit`'s (PostgreSQL): a read that decides guarded
        writes may make them on its own connection instead of checking out another."""
        return not self.is_sqlite

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncSession]:
        """A session for guarded writes each whole on its own (an alert with its message is
        one statement, `storage.repos.outbox.queue_after`), needing no transaction around
        them: PostgreSQL commits each statement by itself (autocommit: no BEGIN and COMMIT
        round trips, three of a resolving alert check's four); SQLite runs them in one
        transaction, as every write there (the engine's write turn)."""
        if self.is_sqlite:
            async with self.transaction() as session:
                yield session
        else:
            async with self._readers() as session:
                yield session

    async def ping(self) -> None:
        """Raise unless the database answers `SELECT 1`."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self._held.close()
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer.close()
        await self.engine.dispose()
