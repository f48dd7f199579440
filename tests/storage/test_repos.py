"""Repositories on real databases (SQLite file and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from storage.db import Database
from storage.repos import CohortRepo, InviteRepo, MemberRepo, UserSettingsRepo
from storage.repos.cohorts import CohortExists
from tests.factories import make_cohort

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


async def test_cohort_round_trip_and_unique_name(db: Database) -> None:
    cohort_id = await make_cohort(db)
    async with db.transaction() as s:
        found = await CohortRepo(s).by_name("PW3A")
        assert found is not None and found.id == cohort_id
        assert found.reflection_at == "fri 14:00" and found.start_date == date(2026, 9, 1)
        with pytest.raises(CohortExists):
            await CohortRepo(s).create("PW3A", date(2026, 9, 1), "UTC")


async def test_update_settings_bumps_schedule_version(db: Database) -> None:
    cohort_id = await make_cohort(db)
    async with db.transaction() as s:
        await CohortRepo(s).update_settings(cohort_id, reflection_at="thu 15:00")
    async with db.transaction() as s:
        cohort = await CohortRepo(s).get(cohort_id)
    assert cohort is not None
    assert cohort.reflection_at == "thu 15:00" and cohort.schedule_version == 1


async def test_single_use_code_can_be_used_once(db: Database) -> None:
    cohort_id = await make_cohort(db)
    async with db.transaction() as s:
        code = (await InviteRepo(s).create(cohort_id, "mentor")).code
    async with db.transaction() as s:
        assert await InviteRepo(s).mark_used(code, NOW) is True
    async with db.transaction() as s:
        assert await InviteRepo(s).mark_used(code, NOW) is False
        invite = await InviteRepo(s).get(code)
    assert invite is not None and invite.used_at == NOW


async def test_codes_are_long_random_and_link_safe(db: Database) -> None:
    cohort_id = await make_cohort(db)
    async with db.transaction() as s:
        codes = {(await InviteRepo(s).create(cohort_id, "student")).code for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        assert 22 <= len(code) <= 64
        assert all(c.isalnum() or c in "-_" for c in code)


async def test_timestamps_come_back_as_the_same_utc_instant(db: Database) -> None:
    cohort_id = await make_cohort(db)
    local = datetime(2026, 3, 29, 3, 30, tzinfo=UTC) + timedelta(hours=0)
    async with db.transaction() as s:
        await InviteRepo(s).create(cohort_id, "student", expires_at=local)
        invites = InviteRepo(s)
        made = await invites.create(cohort_id, "observer", expires_at=local)
    async with db.transaction() as s:
        back = await InviteRepo(s).get(made.code)
    assert back is not None and back.expires_at == local and back.expires_at.tzinfo is not None


async def test_members_activate_and_lookup_by_user(db: Database) -> None:
    cohort_id = await make_cohort(db)
    async with db.transaction() as s:
        members = MemberRepo(s)
        member_id = await members.add_invited(cohort_id, "student", "Anna", "KDV Zon")
        await members.activate(
            member_id, telegram_user_id=77, chat_id=77, name=None, consent_version="v1", now=NOW
        )
    async with db.transaction() as s:
        [member] = await MemberRepo(s).of_user(77)
        names = await MemberRepo(s).names_in_cohort(cohort_id, "student")
    assert member.name == "Anna" and member.is_active and member.consent_at == NOW
    assert names == {"anna"}


async def test_same_user_cannot_be_twice_in_one_cohort(db: Database) -> None:
    cohort_id = await make_cohort(db)
    async with db.transaction() as s:
        await MemberRepo(s).add_active(
            cohort_id,
            "student",
            name="A",
            telegram_user_id=5,
            chat_id=5,
            consent_version="v",
            now=NOW,
        )
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        async with db.transaction() as s:
            await MemberRepo(s).add_active(
                cohort_id,
                "mentor",
                name="A",
                telegram_user_id=5,
                chat_id=5,
                consent_version=None,
                now=NOW,
            )


async def test_language_preference(db: Database) -> None:
    async with db.transaction() as s:
        assert await UserSettingsRepo(s).language(9) is None
        await UserSettingsRepo(s).set_language(9, "en")
    async with db.transaction() as s:
        await UserSettingsRepo(s).set_language(9, "nl")
    async with db.transaction() as s:
        assert await UserSettingsRepo(s).language(9) == "nl"


async def test_prompt_tokens_for_a_whole_class_in_one_go(db: Database) -> None:
    """ensure_many makes one token per student, keeps existing ones, and agrees with ensure."""
    from storage.repos.rounds import PromptRepo, RoundRepo

    cohort_id = await make_cohort(db)
    async with db.transaction() as s:
        students = [await MemberRepo(s).add_invited(cohort_id, "student", n, None) for n in "ABC"]
        round_, _ = await RoundRepo(s).insert_if_absent(cohort_id, 1, "expectations", NOW)
        early, _new = await PromptRepo(s).ensure(round_.id, students[0], "expectations")
    async with db.transaction() as s:
        tokens = await PromptRepo(s).ensure_many(round_.id, students, "expectations")
    assert set(tokens) == set(students) and tokens[students[0]] == early
    assert len(set(tokens.values())) == 3
    async with db.transaction() as s:
        again = await PromptRepo(s).ensure_many(round_.id, students, "expectations")
        assert await PromptRepo(s).ensure(round_.id, students[2], "expectations") == (
            tokens[students[2]],
            False,
        )
    assert again == tokens


async def test_memberships_and_language_in_one_read(db: Database) -> None:
    """`identify`'s read: every membership, oldest first, with the chosen language; a user
    with none still gets the language, and no choice reads as None."""
    cohort_id = await make_cohort(db)
    other_id = await make_cohort(db, name="PW3B")
    async with db.transaction() as s:
        for cohort, role in ((cohort_id, "student"), (other_id, "mentor")):
            await MemberRepo(s).add_active(
                cohort, role, name="Anna", telegram_user_id=31, chat_id=31,
                consent_version="v", now=NOW,
            )  # fmt: skip
        await UserSettingsRepo(s).set_language(31, "en")
        await UserSettingsRepo(s).set_language(32, "en")
    async with db.transaction() as s:
        members, language = await MemberRepo(s).of_user_with_language(31)
        assert [m.role for m in members] == ["student", "mentor"] and language == "en"
        assert members == await MemberRepo(s).of_user(31)
        assert await MemberRepo(s).of_user_with_language(32) == ([], "en")
        assert await MemberRepo(s).of_user_with_language(33) == ([], None)


async def test_a_typed_answers_first_read_agrees_with_the_reads_it_replaces(db: Database) -> None:
    """`PromptRepo.for_typed` (one statement) gives what `RoundRepo.latest`, `CohortRepo.get`,
    `AgreementRepo.to_follow_up` and `AnswerRepo.of` gave a typed answer: the open reflection
    of the highest week, its cohort, whether it asks about an agreement, this student's
    answers; None without an open reflection."""
    from storage.repos.loop import AgreementRepo
    from storage.repos.rounds import AnswerRepo, PromptRepo, RoundRepo

    cohort_id = await make_cohort(db)
    async with db.transaction() as s:
        assert await PromptRepo(s).for_typed(cohort_id, 1) is None  # no round at all
        anna, ben = [await MemberRepo(s).add_invited(cohort_id, "student", n, None) for n in "AB"]
        rounds = RoundRepo(s)
        week1, _ = await rounds.insert_if_absent(cohort_id, 1, "reflection", NOW)
        week2, _ = await rounds.insert_if_absent(cohort_id, 2, "reflection", NOW)
        await rounds.insert_if_absent(cohort_id, 3, "reflection", NOW, status="closed")
        await rounds.insert_if_absent(cohort_id, 4, "expectations", NOW)
        for round_id, member, key in ((week2.id, anna, "q1"), (week2.id, anna, "q2"),
                                      (week2.id, ben, "q1"), (week1.id, anna, "q9")):  # fmt: skip
            await AnswerRepo(s).save(round_id, member, key, kind="text", skill=None, now=NOW,
                                     text=f"{member}{key}")  # fmt: skip
        await AgreementRepo(s).create(
            cohort_id=cohort_id, member_id=ben, status="active", made_by="M", made_by_user_id=1,
            follow_up_week=2, text="Vragen stellen",
        )  # fmt: skip
    async with db.transaction() as s:
        for member, agreements in ((anna, False), (ben, True)):
            read = await PromptRepo(s).for_typed(cohort_id, member)
            assert read is not None
            assert read.round == await RoundRepo(s).latest(cohort_id, "reflection") == week2
            assert read.cohort == await CohortRepo(s).get(cohort_id)
            assert read.answers == await AnswerRepo(s).of(week2.id, member)
            assert read.agreements is agreements
            assert bool(await AgreementRepo(s).to_follow_up(member, 2, week2.id)) is agreements
        assert sorted((await PromptRepo(s).for_typed(cohort_id, anna)).answers) == ["q1", "q2"]  # type: ignore[union-attr]
        assert (await PromptRepo(s).for_typed(cohort_id, 999)).answers == {}  # type: ignore[union-attr]
        await RoundRepo(s).close(week2.id, NOW)
        assert (await PromptRepo(s).for_typed(cohort_id, anna)).round == week1  # type: ignore[union-attr]
        await RoundRepo(s).close(week1.id, NOW)
        assert await PromptRepo(s).for_typed(cohort_id, anna) is None
