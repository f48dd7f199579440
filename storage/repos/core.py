"""Core statements on a session's connection, for the statements of every update.

`session.execute` runs even a Core statement through the ORM's statement and result handling
(its compile state, the identity map's bookkeeping, ORM result rows): about a fifth of a
statement's CPU on the hot path (docs/benchmarks.md §2, ingest7). A statement that names
tables' columns and is built once (with `bindparam`) needs none of it.

`rows` goes one step further for the hottest statements (a tap's, `identify`'s, the inbox's
claim): on SQLite it runs the statement's SQL, compiled once, on the `sqlite3` connection of
the session's transaction, with the bind and result processors SQLAlchemy would apply, and
none of its execution machinery (execution context, cursor result, events, greenlet switch):
that machinery cost more than SQLite takes to run the statement (docs/benchmarks.md §2,
ingest9). Same SQL, same connection, same transaction: nothing about what is stored, or
when, changes. On PostgreSQL it does the same on the kept reader's asyncpg connection
(`Database.reading`, `storage.held_reader.READER`: autocommit, no transaction to keep), where
the alert check's guarded writes run (resolving, raising: 0.5-0.9 ms of CPU each through
SQLAlchemy, 0.2-0.4 ms this way, docs/benchmarks.md §3 thirteenth step); elsewhere it runs
the statement as `execute` does (a transaction's connection: the driver's adapter begins it).
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler

from storage.db import WRITER
from storage.held_reader import READER


async def execute(
    session: AsyncSession, statement: Executable, params: Any = None
) -> CursorResult[Any]:
    """Run `statement` on the session's connection, in its transaction (pending ORM changes
    flushed first)."""
    connection = await _connection(session)
    return await connection.execute(statement, params)


_CONNECTION = "mentorbot_connection"  # session.info: (its transaction, that one's connection)


async def _connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection in its transaction, after flushing pending ORM changes (as
    `session.execute`'s autoflush would: a row added and not yet flushed must be there for a
    statement that reads or references it). Kept with the transaction it belongs to:
    `session.connection()` walks the ORM's transaction state and switches greenlets on
    every call."""
    # (a session that began nothing holds nothing: `add` begins; SQLite's writer sessions
    # that only run `rows` never begin)
    if session.sync_session.in_transaction() and (session.new or session.dirty or session.deleted):
        await session.flush()
    writer = session.info.get(WRITER)
    if writer is not None:  # SQLite's writer, in the transaction `Database.transaction` began
        return cast(AsyncConnection, writer)
    transaction = session.sync_session.get_transaction()
    kept = session.info.get(_CONNECTION)
    if kept is not None and transaction is not None and kept[0] is transaction:
        return cast(AsyncConnection, kept[1])
    connection = await session.connection()
    session.info[_CONNECTION] = (session.sync_session.get_transaction(), connection)
    return connection


class _Plan(NamedTuple):
    """A statement compiled for SQLite with one set of parameter names."""

    sql: str
    names: tuple[str, ...]  # the positional parameters' names, in order
    compiled: SQLCompiler  # for its constants (`construct_params`)
    binds: dict[str, Any]  # name -> the bind processor
    results: tuple[Callable[[Any], Any] | None, ...]
    row: Any  # a namedtuple class of the result's keys: rows read by index and by name
    expanding: bool  # an IN of a list ("expanding" bindparam): SQL and names per execution


# (id of the statement, parameter names) -> (the statement, kept so that its id stays its
# own, and its plan; None: not one `rows` can run itself). Only statements built once belong
# here; the bound below keeps a mistake from growing without end.
_PLANS: dict[tuple[int, frozenset[str]], tuple[Executable, _Plan | None]] = {}
_MAX_PLANS = 256


def _plan(statement: Executable, keys: frozenset[str], dialect: Dialect) -> _Plan | None:
    compiled = statement.compile(dialect=dialect, column_keys=sorted(keys))  # type: ignore[attr-defined]
    assert isinstance(compiled, SQLCompiler)
    if (
        compiled.positiontup is None
        or compiled.insert_prefetch  # Python-side defaults: SQLAlchemy's context computes them
        or compiled.update_prefetch
        or compiled.literal_execute_params
    ):
        return None
    binds = {k: v for k, v in compiled._bind_processors.items() if callable(v)}
    columns = compiled._result_columns
    results = tuple(c.type._cached_result_processor(dialect, None) for c in columns)
    names = [c.keyname for c in columns]
    row = namedtuple("Row", names, rename=True)  # type: ignore[misc]
    expanding = bool(compiled.post_compile_params)
    return _Plan(
        str(compiled), tuple(compiled.positiontup), compiled, binds, results, row, expanding
    )


async def _all(connection: AsyncConnection, statement: Executable, params: Any) -> list[Any]:
    result = await connection.execute(statement, params)
    return list(result.all()) if result.returns_rows else []  # an UPDATE without RETURNING


class Direct:
    """Statements `rows` ran on SQLite's connection itself: SQLAlchemy's events do not see
    them (`bench.ingest --count-sql` adds this count to the events')."""

    statements = 0


async def rows(session: AsyncSession, statement: Executable, params: dict[str, Any]) -> list[Any]:
    """The rows of a statement built once (see the module), in the session's transaction;
    each row a tuple with its columns also by name, as a `Row` (none for a statement that
    returns none)."""
    reader = session.info.get(READER)
    if reader is not None and not _pending(session):
        dialect = session.get_bind().dialect
        # the kept reader, in autocommit (see the module)
        if dialect.name == "postgresql" and (plan := _plan_of(statement, params, dialect)):
            return await _on_reader(reader, plan, params)
    connection = await _connection(session)
    dialect = connection.dialect
    if dialect.name != "sqlite":
        return await _all(connection, statement, params)
    plan = _plan_of(statement, params, dialect)
    if plan is None:
        return await _all(connection, statement, params)
    sql, args = _sql_and_args(plan, params)
    # the sqlite3 connection of the session's transaction (storage.sqlite_inloop: BEGIN
    # IMMEDIATE ran when the session took it)
    driver = connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]
    Direct.statements += 1
    try:
        fetched = driver.raw.execute(sql, args).fetchall()  # type: ignore[union-attr]
    except sqlite3.Error as error:  # as SQLAlchemy raises it (IntegrityError, ...)
        raise DBAPIError.instance(sql, args, error, sqlite3.Error) from error
    return _made(plan, fetched)


async def _on_reader(driver: Any, plan: _Plan, params: dict[str, Any]) -> list[Any]:
    """`rows` on the kept reader's asyncpg connection (autocommit: each statement commits on
    its own, as it would through SQLAlchemy there)."""
    sql, args = _sql_and_args(plan, params)
    Direct.statements += 1
    try:
        fetched = await driver.fetch(sql, *args)
    except Exception as error:  # asyncpg's, wrapped as SQLAlchemy wraps a driver's error
        raise DBAPIError.instance(sql, args, error, Exception) from error
    return _made(plan, fetched)


def _pending(session: AsyncSession) -> bool:
    """ORM changes not flushed yet (`_connection` flushes them first)."""
    return bool(session.new or session.dirty or session.deleted)


def _plan_of(statement: Executable, params: dict[str, Any], dialect: Dialect) -> _Plan | None:
    key = (id(statement), frozenset(params))
    entry = _PLANS.get(key)
    if entry is None:
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        entry = _PLANS[key] = (statement, _plan(statement, key[1], dialect))
    return entry[1]


def _sql_and_args(plan: _Plan, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """The SQL and its positional arguments, bound as SQLAlchemy binds them."""
    sql: str = plan.sql
    names: Sequence[str] = plan.names
    binds: Mapping[str, Any] = plan.binds
    if plan.expanding:  # an IN of a list: the SQL and its parameters as SQLAlchemy expands them
        state = plan.compiled.construct_expanded_state(params)
        sql, names = state.statement, state.positiontup or ()
        binds = {**binds, **state.processors}  # the expanded names' own, beside the rest
        values = state.parameters
    else:
        values = plan.compiled.construct_params(params)
    return sql, [values[n] if (b := binds.get(n)) is None else b(values[n]) for n in names]


def _made(plan: _Plan, fetched: Sequence[Any]) -> list[Any]:
    """The driver's rows as `Row`s, with the result processors SQLAlchemy would apply."""
    results, row = plan.results, plan.row
    if not any(results):
        return [row._make(r) for r in fetched]
    return [
        row._make([v if p is None else p(v) for p, v in zip(results, r, strict=True)])
        for r in fetched
    ]
