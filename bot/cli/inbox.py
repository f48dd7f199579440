"""`mentorbot inbox`: what the inbox holds, the running instances, and the parked updates
(updates that failed three times), for the operator; `--retry ID` gives one three more tries.

Shows no update's content (names, texts): only its id, kind, tries and error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from bot.cli.common import fail, out, run_db
from storage.db import Database
from storage.records import InboxRecord, LeaseRecord
from storage.repos.inbox import InboxRepo
from storage.repos.leases import LeaseRepo


def register(app: typer.Typer) -> None:
    app.command("inbox")(inbox_command)


def inbox_command(
    retry: Annotated[
        int | None, typer.Option(help="Put this parked update back (three more tries)")
    ] = None,
) -> None:
    """Stored updates by status, the running instances, and the parked updates."""
    now = datetime.now(UTC)
    if retry is not None:

        async def unpark(db: Database) -> bool:
            async with db.transaction() as session:
                return await InboxRepo(session).unpark(retry, now)

        if not run_db(unpark):
            fail(f"update {retry} is not parked")
        out.print(f"update {retry} will be handled again (by a running instance)")
        return

    async def survey(db: Database) -> tuple[dict[str, int], list[InboxRecord], list[LeaseRecord]]:
        async with db.transaction() as session:
            inbox = InboxRepo(session)
            return await inbox.counts(), await inbox.parked(), await LeaseRepo(session).live(now)

    counts, parked, live = run_db(survey)
    out.print("inbox: " + ", ".join(f"{status} {n}" for status, n in counts.items()))
    out.print(f"instances running: {len(live)}")
    for lease in live:
        out.print(f"  {lease.instance_id} since {lease.started_at:%Y-%m-%d %H:%M:%S} UTC")
    for row in parked:
        kind = next((key for key in row.payload if key != "update_id"), "?")
        out.print(
            f"parked update {row.update_id} ({kind}) received {row.received_at:%Y-%m-%d %H:%M} "
            f"UTC, {row.attempts} tries, last error: {row.last_error}"
        )
