"""Joining as a werkbegeleider: the student's /werkbegeleider link, consent
before anything is stored, the CLI's link, and links that are expired, used or not theirs."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli.cohorts import werkbegeleider_invitation
from bot.cli.main import app
from storage.models import ConsentRefusal, Member, Supervision
from storage.repos import InviteRepo, MemberRepo
from tests.harness import Harness
from tests.observe.helpers import accept, class_with_students, link_of


async def count(h: Harness, model: type, *where: object) -> int:
    async with h.db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_student_link_consent_first_then_linked_with_its_own_menu(h: Harness) -> None:
    _cohort_id, [anna] = await class_with_students(h, "Anna de Vries")
    mark = h.api.mark(anna)
    await h.api.send_text(anna, "/werkbegeleider")
    told = await h.api.wait_for_message(anna, since=mark)
    assert "één keer" in told.text and "14 dagen" in told.text
    code = await link_of(h, anna)

    ellen = h.api.add_user("Ellen", "Bakker")
    consent = await h.say(ellen, f"/start {code}")
    assert "Anna de Vries" in consent.text and "Wat je niet ziet" in consent.text
    assert "je Telegram-nummer" in consent.text and "mentorteam" in consent.text
    assert await count(h, Member, Member.telegram_user_id == ellen.id) == 0  # nothing yet

    agree = consent.buttons()[0]["callback_data"]
    mark = h.api.mark(ellen)
    await h.api.press(ellen, consent, "Ik ga akkoord")
    welcome = await h.api.wait_for_message(ellen, since=mark)
    assert "werkbegeleider van Anna de Vries" in welcome.text
    mark = h.api.mark(ellen)
    await h.api.press_button(ellen, consent, agree, check=False)
    again = await h.api.wait_for_message(ellen, since=mark)  # a double tap changes nothing
    assert "Je bent al werkbegeleider van deze student" in again.text
    async with h.db.transaction() as s:
        [member] = await MemberRepo(s).of_user(ellen.id)
    assert member.role == "werkbegeleider" and member.consent_version.startswith("wb-consent-")
    assert await count(h, Supervision, Supervision.werkbegeleider_id == member.id) == 1
    key = (json.dumps({"chat_id": ellen.id, "type": "chat"}, sort_keys=True), "")
    commands = await h.api.wait_until(lambda: h.api.bot().commands.get(key))
    assert [c["command"] for c in commands] == [
        "verder", "signaal", "mijngegevens", "taal", "help", "stop"
    ]  # fmt: skip
    assert "Anna de Vries" in (await h.say(ellen, "/help")).text


async def test_one_werkbegeleider_two_students_and_a_student_at_most_two(h: Harness) -> None:
    _cohort_id, [anna, bram] = await class_with_students(h, "Anna", "Bram")
    ellen, frits, gerda = h.api.add_user("Ellen"), h.api.add_user("Frits"), h.api.add_user("Gerda")
    await accept(h, ellen, await link_of(h, anna))
    await accept(h, ellen, await link_of(h, bram))  # each link adds one student
    assert await count(h, Member, Member.telegram_user_id == ellen.id) == 1
    assert await count(h, Supervision) == 2
    again = await h.say(ellen, f"/start {await link_of(h, anna)}")
    assert "al werkbegeleider van deze student" in again.text

    await accept(h, frits, await link_of(h, anna))  # a change of placement: two
    full = await h.say(gerda, f"/start {await link_of(h, anna)}")
    assert "al twee werkbegeleiders" in full.text
    assert await count(h, Member, Member.telegram_user_id == gerda.id) == 0


async def test_expired_used_and_foreign_links_are_refused_and_change_nothing(h: Harness) -> None:
    cohort_id, [anna, bram] = await class_with_students(h, "Anna", "Bram")
    code = await link_of(h, anna)
    own = await h.say(anna, f"/start {code}")  # the student cannot be their own werkbegeleider
    assert "Stuur hem door naar je werkbegeleider" in own.text
    other = await h.say(bram, f"/start {code}")  # nor can a classmate
    assert "Stuur hem door naar je werkbegeleider" in other.text

    ellen, frits = h.api.add_user("Ellen"), h.api.add_user("Frits")
    await accept(h, ellen, code)
    used = await h.say(frits, f"/start {code}")
    assert "Deze link is al gebruikt. Vraag de student om een nieuwe link" in used.text

    async with h.db.transaction() as s:
        [student] = [m for m in await MemberRepo(s).of_user(bram.id)]
        past = h.now() - timedelta(minutes=1)
        expired = await InviteRepo(s).create(
            cohort_id, "werkbegeleider", student_id=student.id, expires_at=past
        )
    assert "verlopen" in (await h.say(frits, f"/start {expired.code}")).text
    assert await count(h, Member, Member.telegram_user_id == frits.id) == 0
    assert await count(h, Supervision) == 1


async def test_declining_keeps_only_the_refusal(h: Harness) -> None:
    _cohort_id, [anna] = await class_with_students(h, "Anna")
    ellen = h.api.add_user("Ellen")
    consent = await h.say(ellen, f"/start {await link_of(h, anna)}")
    mark = h.api.mark(ellen)
    await h.api.press(ellen, consent, "Nee, liever niet")
    reply = await h.api.wait_for_message(ellen, since=mark)
    assert "niets van je bewaard" in reply.text
    assert await count(h, Member, Member.telegram_user_id == ellen.id) == 0
    assert await count(h, ConsentRefusal, ConsentRefusal.role == "werkbegeleider") == 1


async def test_the_coordinators_link_joins_the_named_student(h: Harness) -> None:
    _cohort_id, [_anna] = await class_with_students(h, "Anna de Vries")
    invitation = await werkbegeleider_invitation(h.db, "PW3A", "anna de vries", None)
    assert invitation.invite.student_id is not None
    assert invitation.invite.expires_at is not None
    ellen = h.api.add_user("Ellen")
    welcome = await accept(h, ellen, invitation.invite.code)
    assert "werkbegeleider van Anna de Vries" in welcome.text


def test_cli_invite_prints_one_line_for_the_named_student(
    clean_env: None, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    roster = tmp_path / "klas.csv"
    roster.write_text("naam,organisatie\nAnna de Vries,KDV De Boomhut\n", encoding="utf-8")
    runner = CliRunner()
    assert (
        runner.invoke(app, ["cohort", "create", "PW3A", "--observation", "thu 15:00"]).exit_code
        == 0
    )
    assert runner.invoke(app, ["students", "import", "PW3A", str(roster)]).exit_code == 0
    made = runner.invoke(
        app, ["invite", "PW3A", "--role", "werkbegeleider", "--student", "Anna de Vries",
              "--sheet", str(tmp_path / "wb.pdf")]
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    lines = [line for line in made.stdout.splitlines() if line.strip()]
    assert len(lines) == 1 and "Anna de Vries" in lines[0]
    assert re.search(r"[A-Za-z0-9_-]{22,64}$", lines[0])
    assert (tmp_path / "wb.pdf").read_bytes().startswith(b"%PDF")
    unknown = runner.invoke(
        app, ["invite", "PW3A", "--role", "werkbegeleider", "--student", "Nobody"]
    )
    assert unknown.exit_code == 2 and "no student named" in unknown.output
    missing = runner.invoke(app, ["invite", "PW3A", "--role", "werkbegeleider"])
    assert missing.exit_code == 2 and "--student" in missing.output
    times = runner.invoke(app, ["cohort", "times", "PW3A"]).output
    assert "observation  thu 15:00" in times and "every 1 week" in times
