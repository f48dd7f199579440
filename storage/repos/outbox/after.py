"""Messages that name a row written in the same unit: an alert's message carries the alert's
id in its buttons and dedupe key, which exists only once the alert's INSERT has run.

The caller gives the write (a statement built once, `RETURNING id`, returning nothing when it
wrote nothing: a guarded insert or update) and the drafts, with `NEW_ID` where the id goes.
On PostgreSQL both are ONE statement (data-modifying CTEs): the write, and the outbox rows
selected from what it returned, so a check that raises an alert makes one round trip and, in
autocommit, no BEGIN and COMMIT (docs/benchmarks.md §3, ninth step); the rows go in only when
the write wrote. On SQLite the two run one after the other, in the caller's transaction.

`queue_after_each` is the same for a write of several rows (PostgreSQL): each draft names the
row it belongs to by a key the write returns (an alert's fingerprint), so a check that raises
several alerts makes one round trip for all of them and their messages.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Integer,
    Text,
    bindparam,
    cast,
    column,
    func,
    select,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_name
from storage.records import OutboxDraft
from storage.repos import core
from storage.repos.outbox.repo import OutboxRepo, new_row
from storage.repos.outbox.statements import KINDS, TABLE

# where the id goes in a draft's dedupe key and payload (JSON text: no character here is
# escaped by json.dumps, so the mark reads the same in the serialised payload)
NEW_ID = "{new-id}"

_TEXTS = postgresql.ARRAY(Text)
_IDS = postgresql.ARRAY(BigInteger)
_INTS = postgresql.ARRAY(Integer)
_TIMES = postgresql.ARRAY(TABLE.c.not_before.type)
# the outbox columns of a new row, in the order of the statement's arrays: each draft's row
# is `OutboxRepo`'s (`new_row`: the defaults of a new row live there, for both backends),
# one array element per draft; the payload goes serialised and is cast to JSON with the id
# in it (an attachment is refused: `queue_after`)
FILLED = (
    ("dedupe_key", _TEXTS, Text),
    ("chat_id", _IDS, BigInteger),
    ("kind", _TEXTS, Text),
    ("payload", _TEXTS, Text),
    ("priority", _INTS, Integer),
    ("status", _TEXTS, Text),
    ("attempts", _INTS, Integer),
    ("repeats", _INTS, Integer),
    ("not_before", _TIMES, TABLE.c.not_before.type),
    ("cohort_id", _IDS, BigInteger),
    ("round_id", _IDS, BigInteger),
    ("member_id", _IDS, BigInteger),
    ("created_at", _TIMES, TABLE.c.created_at.type),
)
_REPLACED = ("dedupe_key", "payload")  # where `NEW_ID` may stand


@functools.cache
def queued_after_statement(write: Any, by: str | None = None) -> Any:
    """PostgreSQL: `write` (built once: the cache keys on it) and the outbox rows after it, as
    one SELECT of two data-modifying CTEs. Parameters: the write's own, `q_<column>` arrays
    (one element per draft, `DRAFTED`) and `q_now`. Returns the written row's id and the count
    of rows queued, or no row when the write wrote nothing.

    `by`: a column the write returns beside the id, naming the row (it may write several):
    then each draft has its row's value in the `q_owner` array, it is queued only if that row
    was written, and each written row comes back as (id, `by`, count)."""
    written = write.cte("written")
    new_id = cast(written.c.id, Text)
    filled = FILLED if by is None else (*FILLED, ("owner", _TEXTS, Text))
    drafts = (
        func.unnest(*(bindparam(f"q_{name}", type_=array) for name, array, _ in filled))
        .table_valued(*(column(name, type_) for name, _, type_ in filled))
        .render_derived(name="draft")
    )
    columns: list[Any] = [drafts.c[name] for name, _, _ in FILLED]
    for i, (name, _, _) in enumerate(FILLED):
        if name in _REPLACED:
            columns[i] = func.replace(columns[i], NEW_ID, new_id)
            if name == "payload":
                columns[i] = cast(columns[i], JSON)
    on = true() if by is None else written.c[by] == drafts.c.owner
    rows = select(*columns).select_from(written.join(drafts, on))
    queued = (
        postgresql.insert(TABLE)
        .from_select([name for name, _, _ in FILLED], rows)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(TABLE.c.id)
        .cte("queued")
    )
    heads = [written.c.id] if by is None else [written.c.id, written.c[by]]
    return select(*heads, select(func.count()).select_from(queued).scalar_subquery())


async def queue_after(
    session: AsyncSession,
    write: Any,
    params: dict[str, Any],
    drafts: Sequence[OutboxDraft],
    now: datetime,
) -> int | None:
    """Run `write` (built once; `RETURNING id`) with `params` and, when it wrote, queue the
    drafts with its id for `NEW_ID` (a dedupe key already present is left alone, as in
    `OutboxRepo.enqueue_many`). Returns the id, or None when the write wrote nothing."""
    _check(drafts)
    if dialect_name(session) != "postgresql":
        written = await core.rows(session, write, params)
        new_id = written[0][0] if written else None
        if new_id is not None and drafts:
            await OutboxRepo(session).enqueue_many([_named(d, new_id) for d in drafts], now)
        return new_id
    arrays = _arrays(drafts, now)
    got = await core.rows(session, queued_after_statement(write), {**params, **arrays})
    return got[0][0] if got else None


async def queue_after_each(
    session: AsyncSession,
    write: Any,
    params: dict[str, Any],
    by: str,
    drafts: Mapping[str, Sequence[OutboxDraft]],
    now: datetime,
) -> dict[str, int]:
    """PostgreSQL: run `write` (built once; it may write several rows, `RETURNING id` and the
    column `by` that names each) and queue, for each row it wrote, the drafts under that row's
    `by` value with its id for `NEW_ID`, all in one statement. Returns `by` → id of each row
    written."""
    owned = [(key, draft) for key, some in drafts.items() for draft in some]
    _check([draft for _, draft in owned])
    arrays = _arrays([draft for _, draft in owned], now)
    arrays["q_owner"] = [key for key, _ in owned]
    got = await core.rows(session, queued_after_statement(write, by), {**params, **arrays})
    return {row[1]: row[0] for row in got}


def _check(drafts: Sequence[OutboxDraft]) -> None:
    if {d.kind for d in drafts} - set(KINDS) or any(d.attachment for d in drafts):
        raise ValueError("queue_after: a known kind and no attachment")


def _arrays(drafts: Sequence[OutboxDraft], now: datetime) -> dict[str, list[Any]]:
    """The drafts' new rows (`new_row`) as the statement's `q_<column>` arrays."""
    rows = [new_row(d, now) for d in drafts]
    for row in rows:
        row["payload"] = json.dumps(row["payload"])
    return {f"q_{name}": [row[name] for row in rows] for name, _, _ in FILLED}


def _named(draft: OutboxDraft, new_id: int) -> OutboxDraft:
    """The draft with the written row's id where `NEW_ID` stands."""
    payload = json.loads(json.dumps(draft.payload).replace(NEW_ID, str(new_id)))
    return replace(draft, dedupe_key=draft.dedupe_key.replace(NEW_ID, str(new_id)), payload=payload)
