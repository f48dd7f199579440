"""/status: a student sees their own weeks, ratings and streak — and nobody else's."""

from __future__ import annotations

from tests.harness import Harness
from tgsandbox import SandboxUser, SentMessage


async def finish_reflection(h: Harness, user: SandboxUser, question: SentMessage) -> None:
    """Answer from `question` on: a 4 for ratings, the first button, a line of text."""
    for _ in range(12):
        mark = h.api.mark(user)
        buttons = [b["text"] for b in question.buttons()]
        if "4" in buttons:
            await h.api.press(user, question, "4")
        elif "Typ je antwoord" in question.text:
            await h.api.send_text(user, "Ik hielp bij het eten. Het ging goed.")
        else:
            await h.api.press(user, question, buttons[0])
        question = await h.api.wait_for_message(
            user, lambda m: "Vraag " in (m.text or "") or "Klaar" in (m.text or ""), since=mark
        )
        if "Klaar" in question.text:
            return
    raise AssertionError("the reflection did not finish")


async def test_status_shows_own_history_and_streak(h: Harness) -> None:
    cohort_id = await h.cohort()
    ida, jan = h.api.add_user("Ida"), h.api.add_user("Jan")
    for user in (ida, jan):
        await h.join(user, await h.code(cohort_id))
    empty = (await h.say(ida, "/status")).text
    assert "nog geen vragen van de week" in empty
    # the next questions on the bot's clock (Tuesday 8 September), not the wall clock's
    assert "De volgende vragen komen vrijdag 11 september om 14:00." in empty
    await h.state.live().scheduler.push(cohort_id, "reflection", week=1)
    question = await h.api.wait_for_message(ida, lambda m: "Vraag 1" in (m.text or ""))
    mark = h.api.mark(ida)
    await h.api.press(ida, question, "2")
    second = await h.api.wait_for_message(ida, lambda m: "Vraag 2" in (m.text or ""), since=mark)
    status = await h.say(ida, "/status")
    assert "Jouw reflecties: 0 van 1 ingevuld. Op rij: 0 weken." in status.text
    assert "Week 1: nog niet af" in status.text
    assert "Jan" not in status.text
    await finish_reflection(h, ida, second)
    status = await h.say(ida, "/status")
    assert "Jouw reflecties: 1 van 1 ingevuld. Op rij: 1 week." in status.text  # not "1 weken"
    assert "Ik ken je nog niet" in (await h.say(h.api.add_user("Vreemde"), "/status")).text
