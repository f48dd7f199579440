"""The alert check's writes, each one statement built once per dialect (building and keying
a statement cost more than PostgreSQL takes to run it): the hot path of a check that acts
(docs/benchmarks.md §3)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    String,
    Table,
    Text,
    Update,
    bindparam,
    cast,
    column,
    false,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql

from storage.db import not_durable, not_durable_returning
from storage.dialect import insert_for
from storage.models import Alert

TABLE: Table = Alert.__table__  # type: ignore[assignment]  # Core: no ORM statement handling


@cache
def resolve_rules_statement(dialect: str) -> Update:
    """`AlertRepo.resolve_rules`' statement, built once per dialect (building and keying it
    cost more than PostgreSQL takes to run it)."""
    return (
        update(TABLE)
        .where(
            TABLE.c.id.in_(bindparam("ids", expanding=True)),
            TABLE.c.open_key.is_not(None),
            not_durable(dialect),
        )
        .values(status="resolved", open_key=None, resolved_at=bindparam("now"))
        .returning(TABLE.c.id)
    )


@cache
def reraise_statement(dialect: str) -> Update:
    """`AlertRepo.reraise`'s statement, built once per dialect, guarded by the count read
    (two instances raise it again once); derived, as `raise_all_statement`."""
    return (
        update(TABLE)
        .where(
            TABLE.c.id == bindparam("alert_id"),
            TABLE.c.raise_count == bindparam("count"),
            TABLE.c.open_key.is_not(None),
            not_durable(dialect),
        )
        .values(
            status="open",
            raise_count=TABLE.c.raise_count + 1,
            evidence=bindparam("evidence"),
            raised_week=bindparam("week"),
            raised_at=bindparam("now"),
            muted_until=None,
        )
        .returning(TABLE.c.id)
    )


RAISED = ("cohort_id", "fingerprint", "open_key", "kind", "member_id", "skill", "status",
           "evidence", "raised_week", "raise_count", "raised_at", "discuss",
           "resolution_reported")  # fmt: skip


@cache
def raise_one_statement() -> Any:
    """SQLite: an open alert unless one is open for the fingerprint already; returns its id
    when it opened it (PostgreSQL opens several at once: `raise_all_statement`)."""
    return (
        insert_for("sqlite", TABLE)
        .values({name: bindparam(name) for name in RAISED})
        .on_conflict_do_nothing(index_elements=["cohort_id", "open_key"])
        .returning(TABLE.c.id)
    )


# `raise_all_statement`'s arrays: what differs between the alerts of one check
EACH = (
    ("fingerprint", String),
    ("kind", String),
    ("member_id", BigInteger),
    ("skill", String),
    ("evidence", Text),
)


@cache
def raise_all_statement() -> Any:
    """PostgreSQL: open alerts of one cohort, each unless one is open for its fingerprint
    already, in one statement: one array per column of `EACH` (`a_<column>`, the evidence as
    JSON text) and the cohort, week and time they share; returns each opened alert's id and
    fingerprint. Derived from stored answers (the alert check), so its commit need not wait
    for the disk (`not_durable_returning`)."""
    each = (
        func.unnest(*(bindparam(f"a_{name}", type_=postgresql.ARRAY(kind)) for name, kind in EACH))
        .table_valued(*(column(name, kind) for name, kind in EACH))
        .render_derived(name="new")
    )
    values = {
        "cohort_id": bindparam("cohort_id", type_=BigInteger),
        "fingerprint": each.c.fingerprint,
        "open_key": each.c.fingerprint,
        "kind": each.c.kind,
        "member_id": each.c.member_id,
        "skill": each.c.skill,
        "status": literal("open", String),
        "evidence": cast(each.c.evidence, JSON),
        "raised_week": bindparam("week", type_=TABLE.c.raised_week.type),
        "raise_count": literal(1),
        "raised_at": bindparam("now", type_=TABLE.c.raised_at.type),
        "discuss": false(),
        "resolution_reported": false(),
    }
    return (
        postgresql.insert(TABLE)
        .from_select(list(RAISED), select(*(values[name] for name in RAISED)))
        .on_conflict_do_nothing(index_elements=["cohort_id", "open_key"])
        .returning(TABLE.c.id, TABLE.c.fingerprint, *not_durable_returning("postgresql"))
    )
