"""The last answer of a reflection handled again after its instance died (SPEC §7: an update in
flight at a kill is handled by another instance): the student gets the closing message again.

The kill test (test_kill_answering) waited in vain for it now and then: the dead instance had
stored the answer and marked the reflection completed, then died before "Klaar" went out; the
survivor's replay found the reflection completed already and sent nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from storage.models import InboxUpdate
from storage.repos.leases import LeaseRepo
from tests.e2e.test_checkin import DONE, answer_until
from tests.harness import Harness


async def test_the_last_answer_handled_again_sends_the_closing_message_again(h: Harness) -> None:
    cohort_id = await h.cohort()
    user = h.api.add_user("Sanne")
    await h.join(user, await h.code(cohort_id))
    await h.state.live().scheduler.push(cohort_id, "reflection", week=1)
    first = await h.api.wait_for_message(user, lambda m: "reflectie" in (m.text or ""), timeout=20)
    assert await answer_until(h, user, first, None) >= 5
    await h.settled()
    assert sum(DONE in (m.text or "") for m in h.api.messages(user)) == 1

    # As if another instance had handled the last answer and died before its reply went out:
    # the update is still its claim, under a lease that lapsed a minute ago.
    lapsed = datetime.now(UTC) - timedelta(minutes=1)
    async with h.db.transaction() as s:
        last = await s.scalar(
            select(InboxUpdate.id)
            .where(InboxUpdate.user_key == user.id)
            .order_by(InboxUpdate.update_id.desc())
            .limit(1)
        )
        await s.execute(
            update(InboxUpdate)
            .where(InboxUpdate.id == last)
            .values(status="handling", claimed_by="dead", attempts=1, handled_at=None)
        )
        await LeaseRepo(s).acquire("dead", "elsewhere", 1, lapsed, timedelta(seconds=10))
    mark = h.api.mark(user)
    assert (await h.state.live().lease.reap_dead()).inbox == 1
    closing = await h.api.wait_for_message(user, lambda m: DONE in (m.text or ""), 20, mark)
    assert "week 1" in (closing.text or "")
    await h.settled()
