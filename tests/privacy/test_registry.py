"""The registry of personal-data tables (storage.personal_data) lists every table that can name
a person, so erasure, retention and the export never miss a new one."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, MetaData, Table

from storage.models import Base
from storage.personal_data import PERSONAL_TABLES, Erasure


def names_a_person(table: Table) -> bool:
    """A member or Telegram user column, or the members table itself."""
    return table.name == "members" or any(
        column.name == "member_id" or column.name.endswith("user_id") for column in table.columns
    )


def unregistered(metadata: MetaData) -> list[str]:
    registered = {t.name for t in PERSONAL_TABLES}
    return sorted(
        name
        for name, table in metadata.tables.items()
        if names_a_person(table) and name not in registered
    )


def test_every_table_that_names_a_person_is_registered() -> None:
    assert unregistered(Base.metadata) == []


def test_a_new_table_with_a_member_column_is_caught() -> None:
    metadata = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(metadata)
    Table(
        "placement_notes",  # a made-up table ("observations" exists now, and is registered)
        metadata,
        Column("id", Integer, primary_key=True),
        Column("member_id", ForeignKey("members.id")),
    )
    Table(
        "raw_updates",  # (the real inbox is registered; a table like it that is not)
        metadata,
        Column("id", Integer, primary_key=True),
        Column("from_user_id", BigInteger),
    )
    assert unregistered(metadata) == ["placement_notes", "raw_updates"]


def test_registered_columns_exist() -> None:
    for entry in PERSONAL_TABLES:
        columns = entry.table.c
        for name in (entry.member_column, entry.retention_by):
            assert name is None or name in columns, (entry.name, name)
        if entry.purge_with_round:
            assert "round_id" in columns, entry.name
        if entry.purge_statuses:
            assert "status" in columns, entry.name
        if entry.erasure is Erasure.DELETE:
            assert entry.member_column is not None, entry.name
