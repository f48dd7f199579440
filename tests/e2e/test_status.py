"""/status: a student sees their own weeks, ratings and streak — and nobody else's."""

from __future__ import annotations

from tests.harness import Harness


async def test_status_shows_own_history_and_streak(h: Harness) -> None:
    cohort_id = await h.cohort()
    ida, jan = h.api.add_user("Ida"), h.api.add_user("Jan")
    for user in (ida, jan):
        await h.join(user, await h.code(cohort_id))
    assert "nog geen reflectieronde" in (await h.say(ida, "/status")).text
    await h.state.live().scheduler.push(cohort_id, "reflection", week=1)
    question = await h.api.wait_for_message(ida, lambda m: "Vraag 1" in (m.text or ""))
    mark = h.api.mark(ida)
    await h.api.press(ida, question, "2")
    await h.api.wait_for_message(ida, lambda m: "Vraag 2" in (m.text or ""), since=mark)
    status = await h.say(ida, "/status")
    assert "0 van 1 reflecties ingevuld" in status.text
    assert "Week 1: nog niet af" in status.text
    assert "Jan" not in status.text
    assert "Ik ken je nog niet" in (await h.say(h.api.add_user("Vreemde"), "/status")).text
