"""Who may use the loop's commands and buttons (SQLite and PostgreSQL): only an active mentor
of the class concerned. Students, observers, strangers and another class's mentors get the
polite refusal, and nothing is stored or sent."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.texts import t
from storage.models import Agreement, AuditEntry, Compliment, LoopNote
from storage.repos import CohortRepo, MemberRepo
from tests.factories import add_mentor, make_cohort
from tests.harness import Harness
from tests.loop.helpers import alert_message, class_with_gap
from tests.mentor.helpers import PLAN, START
from tgsandbox import SandboxUser

MENTOR_ONLY = "Dat commando is alleen voor het mentorteam."
NOT_YOURS = "Deze knop is niet (meer) voor jou. Er is niets veranderd."
NOT_YOUR_ALERT = "Dit signaal hoort bij een klas waar je geen mentor van bent."


async def _press_forged(h: Harness, user: SandboxUser, data: str) -> str:
    await h.app.bot.send_message(user.id, "test")
    message = h.api.messages(user)[-1]
    query = await h.api.press_button(user, message, data, check=False)
    return (await h.api.wait_for_callback_answer(query)).text


async def _count(h: Harness, model: type) -> int:
    async with h.db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_commands_and_buttons_refuse_everyone_but_the_class_mentors(h: Harness) -> None:
    c = await class_with_gap(h)
    await alert_message(h, c)
    olga = h.api.add_user("Olga")  # mentor of another class
    observer = h.api.add_user("Otto")
    stranger = h.api.add_user("Iemand")
    async with h.db.transaction() as s:
        other = await make_cohort(s, "PW3B", plan=PLAN)
        await add_mentor(s, other, "Olga", olga.id)
        await MemberRepo(s).add_active(
            c.cohort, "observer", name="Otto", telegram_user_id=observer.id,
            chat_id=observer.id, consent_version="test", now=START,
        )  # fmt: skip
    draft = await h.say(c.marit, "/afspraak Anna oefent het kringgesprek")
    [draft_id] = [int(b["callback_data"].split(":")[1]) for b in draft.buttons()][:1]

    for user in (c.anna, observer, stranger):
        for command in ("/afspraak Anna oefenen", "/agenda", "/compliment Anna goed zo"):
            assert (await h.say(user, command)).text == MENTOR_ONLY, command
    refused = await h.say(olga, "/afspraak Anna oefenen")  # her own class has no Anna
    assert refused.text == "Ik ken geen actieve student „Anna” in deze klas."
    assert "PW3B: er staat niets op de agenda" in (await h.say(olga, "/agenda")).text

    for user in (c.anna, observer, stranger, olga):
        assert await _press_forged(h, user, f"al:{c.alert_id}:deal") == NOT_YOUR_ALERT
        assert await _press_forged(h, user, f"bs:alert:{c.alert_id}") == NOT_YOURS
        assert await _press_forged(h, user, f"cp:{c.ids['anna']}") == NOT_YOURS
        assert await _press_forged(h, user, f"ag:{draft_id}:w5") == NOT_YOURS
    assert await _press_forged(h, c.marit, "ag:999:w5") == NOT_YOURS  # a forged id

    async with h.db.transaction() as s:
        rows = list(await s.scalars(select(Agreement)))
        actions = [a.action for a in await s.scalars(select(AuditEntry))]
    assert [(r.status, r.made_by) for r in rows] == [("draft", "Marit Jansen")]
    assert await _count(h, LoopNote) == 0 and await _count(h, Compliment) == 0
    assert "agreement_made" not in actions and "compliment" not in actions
    assert not [m for m in h.api.messages(c.anna) if "Afspraak" in (m.text or "")]


async def test_in_the_team_group_only_the_asking_mentor_fills_in_the_line(h: Harness) -> None:
    c = await class_with_gap(h)
    olga = h.api.add_user("Olga")
    group = h.api.add_group("Mentorteam PW3A")
    for user in (c.marit, olga):
        await h.api.add_member_to_group(user, group)
    async with h.db.transaction() as s:
        await CohortRepo(s).link_group(c.cohort, group.id)
        other = await make_cohort(s, "PW3B", plan=PLAN)
        await add_mentor(s, other, "Olga", olga.id)
    ask = await h.say(c.marit, "/afspraak Anna", chat=group)
    assert ask.text.startswith("✍️ Leerafspraak met Anna de Vries")
    other = await h.say(olga, "Dit is mijn afspraak.", chat=group, reply_to=ask)
    assert other.text == "Die vraag is al beantwoord of is niet van jou. Er is niets veranderd."
    refused = await h.say(olga, "/agenda", chat=group)  # PW3B's mentor in PW3A's group
    assert refused.text == MENTOR_ONLY
    mark = h.api.mark(group)
    await h.api.add_member_to_group(c.anna, group)  # a student in the team's group
    gate = t("input.student_in_group", "nl")
    await h.api.wait_for_message(group, lambda m: m.text == gate, since=mark)
    student = await h.say(c.anna, "Mijn afspraak.", chat=group, reply_to=ask)
    assert student.text == gate
    weeks = await h.say(c.marit, "Anna oefent het kringgesprek.", chat=group, reply_to=ask)
    assert "„Anna oefent het kringgesprek.”" in weeks.text
    query = await h.api.press(olga, weeks, "Week 5 ✓")
    assert (await h.api.wait_for_callback_answer(query)).text == NOT_YOURS
    async with h.db.transaction() as s:
        [row] = list(await s.scalars(select(Agreement)))
    assert (row.status, row.text) == ("draft", "Anna oefent het kringgesprek.")
