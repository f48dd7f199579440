"""The observation round: through the outbox one message per supervised student,
the week's skills one at a time, stored as tapped and changeable until the round closes,
the optional line, one reminder, /verder."""

from __future__ import annotations

from storage.repos.observations import NOTE_SKILL
from tests.harness import Harness
from tests.observe.helpers import (
    SKILL_1,
    SKILL_2,
    accept,
    class_with_students,
    is_request,
    link_of,
    observations,
)
from tgsandbox import SandboxUser, SentMessage


async def tap(h: Harness, user: SandboxUser, message: SentMessage, label: str) -> SentMessage:
    """Tap `label` and return the bot's next request (or closing message)."""
    mark = h.api.mark(user)
    await h.api.press(user, message, label)
    return await h.api.wait_for_message(user, since=mark)


async def edited(h: Harness, user: SandboxUser, message: SentMessage, text: str) -> SentMessage:
    def check() -> SentMessage | None:
        current = h.api.bot().find_message(user.id, message.message_id)
        return current if current is not None and text in (current.text or "") else None

    return await h.api.wait_until(check)


async def test_round_answered_per_student_changed_and_completed(h: Harness) -> None:
    cohort_id, [anna, bram] = await class_with_students(h, "Anna", "Bram")
    ellen = h.api.add_user("Ellen")
    await accept(h, ellen, await link_of(h, anna))
    await accept(h, ellen, await link_of(h, bram))

    pushed = await h.state.live().scheduler.push(cohort_id, "observation", week=1)
    assert pushed.created and pushed.opened.queued == 2  # one message per supervised student
    first_anna = await h.api.wait_for_message(
        ellen, lambda m: is_request(m) and "Anna" in m.text, timeout=20
    )
    first_bram = await h.api.wait_for_message(
        ellen, lambda m: is_request(m) and "Bram" in m.text, since=0
    )
    assert "vaardigheid 1 van 2" in first_anna.text and SKILL_1 in first_anna.text
    labels = [b["text"] for b in first_anna.buttons()]
    assert labels == ["Nooit", "Oefenen", "Voldoende", "Goed", "Niet gezien"]
    # the werkbegeleider never sees the student's own answers
    assert all("inschatting" not in (m.text or "") for m in h.api.messages(ellen))

    second = await tap(h, ellen, first_anna, "Oefenen")
    assert "vaardigheid 2 van 2" in second.text and SKILL_2 in second.text
    assert "Oefenen" in (await edited(h, ellen, first_anna, "Jouw antwoord")).text
    note = await tap(h, ellen, second, "Goed")
    assert "Nog iets kwijt over Anna? Stuur één zin of tik Klaar." in note.text
    mark = h.api.mark(ellen)
    await h.api.send_text(ellen, "Anna durft steeds meer met de peuters.")
    assert "Opgeslagen" in (await h.api.wait_for_message(ellen, since=mark)).text

    # a change until the round closes: no new request, the row changes
    mark = h.api.mark(ellen)
    query = await h.api.press(ellen, first_anna, "Voldoende")
    await h.api.wait_until(lambda: query in h.api.answered_callbacks)
    assert h.api.answered_callbacks[query].text == "Aangepast ✓"

    bram_2 = await tap(h, ellen, first_bram, "Niet gezien")
    bram_note = await tap(h, ellen, bram_2, "Nooit")
    thanks = await tap(h, ellen, bram_note, "Klaar")
    assert "Alles van week 1 is bewaard" in thanks.text

    stored = {(o.student_id, o.skill): o for o in await observations(h)}
    levels = {k: (o.level, o.text) for k, o in stored.items()}
    anna_id = next(o.student_id for o in stored.values() if o.text and "peuters" in o.text)
    bram_id = next(sid for sid, _ in stored if sid != anna_id)
    assert levels[(anna_id, "klimaat")] == (2, None)  # changed from oefenen to voldoende
    assert levels[(anna_id, "samenwerken")] == (3, None)
    assert levels[(anna_id, NOTE_SKILL)] == (None, "Anna durft steeds meer met de peuters.")
    assert levels[(bram_id, "klimaat")] == (None, None)  # niet gezien: stored, no level
    assert levels[(bram_id, "samenwerken")] == (0, None)
    assert len(stored) == 6


async def test_reminder_once_verder_resumes_and_a_closed_round_refuses(h: Harness) -> None:
    cohort_id, [anna] = await class_with_students(h, "Anna")
    ellen = h.api.add_user("Ellen")
    await accept(h, ellen, await link_of(h, anna))
    scheduler = h.state.live().scheduler
    await scheduler.push(cohort_id, "observation", week=1)
    first = await h.api.wait_for_message(ellen, is_request, timeout=20)
    await tap(h, ellen, first, "Goed")

    await scheduler.push(cohort_id, "reminder", week=1)
    reminder = await h.api.wait_for_message(
        ellen, lambda m: "nog niet af" in (m.text or ""), timeout=20
    )
    assert not (await scheduler.push(cohort_id, "reminder", week=1)).created  # one reminder
    resumed = await tap(h, ellen, reminder, "Verder")
    assert "vaardigheid 2 van 2" in resumed.text
    again = await h.say(ellen, "/verder")
    assert "vaardigheid 2 van 2" in again.text

    await scheduler.push(cohort_id, "observation", week=2)  # closes week 1
    await h.api.wait_for_message(ellen, lambda m: "Week 2" in (m.text or ""), timeout=20)
    query = await h.api.press(ellen, again, "Nooit")
    await h.api.wait_until(lambda: query in h.api.answered_callbacks)
    assert "gesloten" in h.api.answered_callbacks[query].text
    assert {o.level for o in await observations(h) if o.week == 1} == {3}
