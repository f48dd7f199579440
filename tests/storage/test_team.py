"""The team's chats and language read in one statement (`bot.outbox.team.read_team`), on a
SQLite file and PostgreSQL: what an alert, a question or a resolved gap is sent to and in."""

from __future__ import annotations

from bot.outbox.team import Team, read_team, team_chats, team_language
from storage.db import Database
from storage.repos import CohortRepo, MemberRepo, UserSettingsRepo
from tests.factories import add_member, add_mentor, make_cohort


async def test_the_active_mentors_chats_and_their_shared_language(db: Database) -> None:
    cohort_id = await make_cohort(db)
    empty_id = await make_cohort(db, name="PW3B")
    async with db.transaction() as s:
        await add_mentor(s, cohort_id, "Bram", 42)
        await add_mentor(s, cohort_id, "Anouk", 41)
        await add_member(s, cohort_id, "Sara", "student", 43)
        await MemberRepo(s).add_invited(cohort_id, "mentor", "Nog niet", None)
        await UserSettingsRepo(s).set_language(43, "en")  # a student's choice does not count
    async with db.transaction() as s:
        # by name; the invited mentor has no chat; nobody chose English
        assert await read_team(s, cohort_id) == Team([41, 42], "nl")
        await UserSettingsRepo(s).set_language(41, "en")
    async with db.transaction() as s:
        assert await team_language(s, cohort_id) == "nl"  # one Dutch reader keeps it Dutch
        await UserSettingsRepo(s).set_language(42, "en")
    async with db.transaction() as s:
        assert await read_team(s, cohort_id) == Team([41, 42], "en")
        await UserSettingsRepo(s).set_language(42, "nl")
        [bram] = [m for m in await MemberRepo(s).in_cohort(cohort_id, "mentor") if m.name == "Bram"]
        await MemberRepo(s).set_status(bram.id, "stopped")
    async with db.transaction() as s:
        # a mentor who left neither receives nor keeps the team Dutch
        assert await read_team(s, cohort_id) == Team([41], "en")
        await CohortRepo(s).link_group(cohort_id, -100)
    async with db.transaction() as s:
        assert await team_chats(s, cohort_id) == [-100]  # the linked group, not each mentor
        assert await read_team(s, empty_id) == Team([], "nl")  # no mentors yet
        assert await read_team(s, 10_000) == Team([], "nl")  # no such cohort
