"""Importing a class list (CSV) and making invites: validated as a whole, stored at once."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.db import Session
from storage.records import CohortRecord, InviteRecord
from storage.repos import InviteRepo, MemberRepo

NAME_COLUMNS = ("name", "naam", "student")
ORG_COLUMNS = (
    "internship organisation", "internship organization", "organisation", "organization",
    "organisatie", "stageorganisatie", "stage", "bpv", "bpv-organisatie",
)  # fmt: skip
MAX_NAME = 200
ROLES = ("student", "mentor", "observer")


class RosterError(Exception):
    """The file was refused as a whole; `problems` lists every bad line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class RosterRow:
    line: int
    name: str
    organisation: str | None


@dataclass(frozen=True)
class Invitation:
    name: str | None
    organisation: str | None
    invite: InviteRecord


def parse_roster(raw: bytes, existing_names: set[str]) -> list[RosterRow]:
    """Read a UTF-8 CSV with a header; raise RosterError naming every bad or duplicate line."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError([f"the file is not UTF-8 (byte {exc.start})"]) from None
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_sniff(text))
    header = [cell.strip().casefold() for cell in next(reader, [])]
    name_at = _column(header, NAME_COLUMNS)
    if name_at is None:
        raise RosterError(["line 1: no column 'name' (or 'naam') in the header"])
    org_at = _column(header, ORG_COLUMNS)
    rows, problems, seen = [], [], dict[str, int]()
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        row, problem = _row(line, cells, len(header), name_at, org_at)
        if problem is None and row is not None:
            problem = _duplicate(row, seen, existing_names)
        if problem is not None:
            problems.append(problem)
        elif row is not None:
            seen[row.name.casefold()] = line
            rows.append(row)
    if problems:
        raise RosterError(problems)
    if not rows:
        raise RosterError(["the file holds no students"])
    return rows


def _sniff(text: str) -> type[csv.Dialect]:
    first = text.splitlines()[0] if text else ""
    return csv.excel if first.count(",") >= first.count(";") else _Semicolon


class _Semicolon(csv.excel):
    delimiter = ";"  # Dutch spreadsheet programs save CSV with semicolons


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    return next((i for i, cell in enumerate(header) if cell in names), None)


def _row(
    line: int, cells: list[str], width: int, name_at: int, org_at: int | None
) -> tuple[RosterRow | None, str | None]:
    if len(cells) > width:
        return None, f"line {line}: {len(cells)} columns, the header has {width}"
    name = " ".join(cells[name_at].split()) if name_at < len(cells) else ""
    if not name:
        return None, f"line {line}: the name is empty"
    if len(name) > MAX_NAME:
        return None, f"line {line}: the name is longer than {MAX_NAME} characters"
    org = cells[org_at].strip() if org_at is not None and org_at < len(cells) else ""
    if len(org) > MAX_NAME:
        return None, f"line {line}: the organisation is longer than {MAX_NAME} characters"
    return RosterRow(line, name, org or None), None


def _duplicate(row: RosterRow, seen: dict[str, int], existing: set[str]) -> str | None:
    key = row.name.casefold()
    if key in seen:
        return f"line {row.line}: {row.name!r} appears twice (also on line {seen[key]})"
    if key in existing:
        return f"line {row.line}: {row.name!r} is already a student of this cohort"
    return None


async def import_students(
    session: Session, cohort: CohortRecord, raw: bytes, expires_at: datetime | None
) -> list[Invitation]:
    """Add every student of the file with a personal single-use code, in the caller's
    transaction (so a failure leaves nothing half-imported)."""
    members = MemberRepo(session)
    rows = parse_roster(raw, await members.names_in_cohort(cohort.id, "student"))
    invites = InviteRepo(session)
    made = []
    for row in rows:
        member_id = await members.add_invited(cohort.id, "student", row.name, row.organisation)
        invite = await invites.create(
            cohort.id, "student", member_id=member_id, expires_at=expires_at
        )
        made.append(Invitation(row.name, row.organisation, invite))
    return made


async def create_invites(
    session: Session, cohort: CohortRecord, role: str, count: int, expires_at: datetime | None
) -> list[Invitation]:
    """`count` single-use codes for `role` in the cohort."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    invites = InviteRepo(session)
    return [
        Invitation(None, None, await invites.create(cohort.id, role, expires_at=expires_at))
        for _ in range(count)
    ]


async def pending_invitations(session: Session, cohort: CohortRecord) -> list[Invitation]:
    """Personal codes of imported students who have not joined yet (for a new sheet)."""
    members = await MemberRepo(session).in_cohort(cohort.id, "student", statuses=("invited",))
    invites = InviteRepo(session)
    result = []
    for member in members:
        invite = await invites.for_member(member.id)
        if invite is not None and invite.used_at is None:
            result.append(Invitation(member.name, member.organisation, invite))
    return result


def expiry(now: datetime, days: int | None) -> datetime | None:
    return None if days is None else now + timedelta(days=days)


def deep_link(username: str | None, code: str) -> str | None:
    return f"https://t.me/{username.lstrip('@')}?start={code}" if username else None
