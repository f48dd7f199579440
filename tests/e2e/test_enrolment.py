"""Joining as a student, mentor or observer, through the real bot and the sandbox server."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from storage.models import ConsentRefusal, Member
from storage.repos import MemberRepo
from tests.harness import Harness


async def count(h: Harness, model: type, *where: object) -> int:
    async with h.db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def menu(h: Harness, chat_id: int) -> list[str]:
    """The command menu Telegram shows in that private chat (set right after the welcome)."""
    key = (json.dumps({"chat_id": chat_id, "type": "chat"}, sort_keys=True), "")
    commands = await h.api.wait_until(lambda: h.api.bot().commands.get(key))
    return [c["command"] for c in commands]


async def test_student_sees_consent_in_dutch_and_is_enrolled_only_after_agreeing(
    h: Harness,
) -> None:
    cohort_id = await h.cohort()
    code = await h.personal_code(cohort_id, "Anna de Vries")
    anna = h.api.add_user("Anna", "V.")
    consent = await h.say(anna, f"/start {code}")
    assert "Wat ik bewaar" in consent.text and "Ga je akkoord?" in consent.text
    assert [b["text"] for b in consent.buttons()] == ["Ik ga akkoord", "Nee, liever niet"]
    assert await count(h, Member, Member.telegram_user_id == anna.id) == 0

    mark = h.api.mark(anna)
    await h.api.press(anna, consent, "Ik ga akkoord")
    welcome = await h.api.wait_for_message(anna, since=mark)
    assert "Dank je, Anna de Vries" in welcome.text
    async with h.db.transaction() as s:
        [member] = await MemberRepo(s).of_user(anna.id)
    assert member.status == "active" and member.chat_id == anna.id
    assert member.consent_at is not None and member.consent_version.startswith("consent-")
    assert member.name == "Anna de Vries"  # the name from the class list, not Telegram's


async def test_declining_keeps_nothing_but_the_refusal_and_allows_coming_back(h: Harness) -> None:
    cohort_id = await h.cohort()
    code = await h.personal_code(cohort_id, "Bram")
    bram = h.api.add_user("Bram")
    consent = await h.say(bram, f"/start {code}")
    mark = h.api.mark(bram)
    await h.api.press(bram, consent, "Nee, liever niet")
    reply = await h.api.wait_for_message(bram, since=mark)
    assert "niets van je bewaard" in reply.text
    assert await count(h, Member, Member.telegram_user_id == bram.id) == 0
    assert await count(h, ConsentRefusal) == 1
    welcome = await h.join(bram, code)
    assert "Dank je" in welcome.text


async def test_start_again_tells_where_they_stand_without_enrolling_twice(h: Harness) -> None:
    cohort_id = await h.cohort()
    code = await h.code(cohort_id, "student")
    sara = h.api.add_user("Sara")
    await h.join(sara, code)
    again = await h.say(sara, f"/start {code}")
    assert "Je doet al mee met PW3A als student" in again.text
    plain = await h.say(sara, "/start")
    assert "/verder" in plain.text  # the student's help
    assert await count(h, Member, Member.telegram_user_id == sara.id) == 1


async def test_unknown_used_and_expired_codes_are_refused_politely(h: Harness) -> None:
    cohort_id = await h.cohort()
    used = await h.code(cohort_id, "mentor")
    expired = await h.code(cohort_id, "student", expires_at=h.now() - timedelta(days=1))
    first, second = h.api.add_user("Eerste"), h.api.add_user("Tweede")
    await h.say(first, f"/start {used}")
    assert "Deze code ken ik niet" in (await h.say(second, "/start nietbestaand123")).text
    assert "al gebruikt" in (await h.say(second, f"/start {used}")).text
    assert "verlopen" in (await h.say(second, f"/start {expired}")).text
    assert "Deze code ken ik niet" in (await h.say(second, "/start " + "x" * 80)).text
    assert await count(h, Member, Member.telegram_user_id == second.id) == 0


async def test_mentor_and_observer_codes_enrol_and_set_the_role_menu(h: Harness) -> None:
    cohort_id = await h.cohort()
    mentor_code = await h.code(cohort_id, "mentor")
    observer_code = await h.code(cohort_id, "observer")
    docent, regie = h.api.add_user("Docent"), h.api.add_user("Regie")
    welcome = await h.say(docent, f"/start {mentor_code}")
    assert "Je zit nu in het mentorteam van PW3A" in welcome.text and mentor_code in welcome.text
    assert "regiegroep" in (await h.say(regie, f"/start {observer_code}")).text
    mentor_menu = await menu(h, docent.id)
    assert "overzicht" in mentor_menu and "verder" not in mentor_menu
    assert await menu(h, regie.id) == ["trends", "taal", "help"]


async def test_mentor_links_the_team_group_with_koppel(h: Harness) -> None:
    cohort_id = await h.cohort()
    code = await h.code(cohort_id, "mentor")
    docent, student = h.api.add_user("Docent"), h.api.add_user("Student")
    await h.say(docent, f"/start {code}")
    group = h.api.add_group("Mentorteam PW3A")
    await h.api.add_member_to_group(docent, group)
    await h.api.add_member_to_group(student, group)
    refused = await h.say(student, f"/koppel {code}", chat=group)
    assert "Alleen een mentor" in refused.text
    done = await h.say(docent, f"/koppel {code}", chat=group)
    assert "gekoppeld" in done.text
    assert "werkt alleen in een groep" in (await h.say(docent, f"/koppel {code}")).text


async def test_language_switch_to_english_and_back(h: Harness) -> None:
    cohort_id = await h.cohort()
    sam = h.api.add_user("Sam")
    await h.join(sam, await h.code(cohort_id))
    assert "English" in (await h.say(sam, "/taal en")).text
    assert "You can send:" in (await h.say(sam, "/help")).text
    assert "choose" in (await h.say(sam, "/taal fr")).text.lower()
    assert "Nederlands" in (await h.say(sam, "/taal nl")).text


async def test_strangers_stickers_and_students_in_groups_get_clear_answers(h: Harness) -> None:
    cohort_id = await h.cohort()
    stranger = h.api.add_user("Onbekend")
    assert "Ik ken je nog niet" in (await h.say(stranger, "hallo")).text
    assert "code" in (await h.say(stranger, "/start")).text
    mark = h.api.mark(stranger)
    await h.api.send_sticker(stranger)
    assert "Ik ken je nog niet" in (await h.api.wait_for_message(stranger, since=mark)).text

    lisa = h.api.add_user("Lisa")
    await h.join(lisa, await h.code(cohort_id))
    mark = h.api.mark(lisa)
    await h.api.send_photo(lisa)
    assert "alleen tekst" in (await h.api.wait_for_message(lisa, since=mark)).text
    group = h.api.add_group("Klas")
    await h.api.add_member_to_group(lisa, group)
    assert "privégesprek" in (await h.say(lisa, "/help@mentorbot_test_bot", chat=group)).text
    assert "privégesprek" in (await h.say(lisa, "hoi allemaal", chat=group)).text
    assert await count(h, Member) == 1
