"""The inbox end to end: an update whose handling keeps failing is tried three times,
then parked with its error for the operator (counted in /metrics), and the user's next update
is handled as usual. (An update handed over twice: tests/web and tests/process.)"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from telegram import Bot, Chat, Message, Update

from bot import metrics
from bot.runtime.inbox import Inbox, write_with_record
from storage.db import Database, Session
from storage.repos.inbox import InboxRepo
from tests.conftest import TEST_TOKEN
from tests.harness import Harness
from tests.processes import eventually


async def test_an_update_failing_three_times_is_parked_and_the_next_one_handled(
    h: Harness,
) -> None:
    inbox = h.state.live().inbox
    assert inbox is not None
    inbox.retry_after = (0.05, 0.05)  # the pauses between tries (2 s and 10 s in production)
    parked_before = metrics.value("inbox_parked_total")
    user = h.api.add_user("Noor")
    # every reply to Noor fails (the handler's, and the error handler's "that did not work")
    h.api.faults.fail_next("sendMessage", 400, count=6, chat_id=user.id)
    update_id = await h.api.send_text(user, "/help")

    async def parked() -> object:
        async with h.db.transaction() as s:
            row = await InboxRepo(s).get(update_id)
        return row if row is not None and row.status == "parked" else None

    row = await eventually(parked, 15, "the update parked")
    assert (row.attempts, row.last_error) == (3, "BadRequest")  # type: ignore[attr-defined]
    assert metrics.value("inbox_parked_total") == parked_before + 1
    assert h.api.messages(user) == []  # all six replies were refused
    # the parked update holds nobody up: Noor's next message is answered
    assert (await h.say(user, "/help")).text


async def test_a_reply_right_after_a_text_question_finds_its_message_id(h: Harness) -> None:
    """The id of the message asking for a text is stored before its update counts as handled,
    and the user's next update is claimed only after that: a reply sent at once answers it."""
    cohort_id = await h.cohort()
    ilse = h.api.add_user("Ilse")
    await h.join(ilse, await h.code(cohort_id))
    await h.state.live().scheduler.push(cohort_id, "expectations", week=1)
    week1 = await h.api.wait_for_message(ilse, lambda m: "Week 1" in (m.text or ""), timeout=20)
    for attempt in range(2):  # asked twice: each prompt message answers its own reply
        mark = h.api.mark(ilse)
        await h.api.press(ilse, week1, "Vraag hierover")
        prompt = await h.api.wait_for_message(ilse, since=mark)
        assert "Typ je vraag" in prompt.text
        reply = await h.say(ilse, f"Moet ik een stageverslag maken? ({attempt})", reply_to=prompt)
        assert "naar je mentorteam gestuurd" in reply.text, reply.text


async def test_an_update_is_stored_as_the_bot_api_sent_it(h: Harness) -> None:
    """The inbox keeps the JSON that came (not a rebuild of the parsed update): another
    instance, or this one after a crash, handles exactly what Telegram sent."""
    user = h.api.add_user("Mila")
    update_id = await h.api.send_text(user, "/help")
    # still queued on the server: it goes only once the poller confirms the stored batch
    sent = next(u for u in h.api.bot().updates if u["update_id"] == update_id)
    sent = json.loads(json.dumps(sent))

    async def stored() -> object:
        async with h.db.transaction() as s:
            row = await InboxRepo(s).get(update_id)
        return row

    row = await eventually(stored, 10, "the update stored")
    assert row.payload == sent  # type: ignore[attr-defined]
    assert (await h.say(user, "/help")).text  # and it was handled as before


async def test_a_write_after_the_reply_goes_with_the_record_of_its_update(db: Database) -> None:
    """`write_with_record` (a sent question's message id): the write runs in the transaction
    that records its update as handled, not one of its own; a try that fails writes nothing,
    the try after it writes anew; outside the inbox the caller is told to write itself."""
    seen: list[tuple[int, int, str]] = []  # (update, try, status of the update in the write)
    tries: dict[int, int] = {}

    async def process(update: Update) -> None:
        n = tries[update.update_id] = tries.get(update.update_id, 0) + 1

        async def write(session: Session) -> None:
            row = await InboxRepo(session).get(update.update_id)
            assert row is not None
            seen.append((update.update_id, n, row.status))

        assert write_with_record(write)
        if update.update_id == 2 and n == 1:
            raise RuntimeError("the first try of update 2 fails after its reply")

    inbox = Inbox(db, Bot(TEST_TOKEN), "instance-a", process, retry_after=(0.05, 0.05))
    inbox.start()
    try:
        chat = {"id": 7, "type": "private"}
        updates = [Update(i, message=Message(i, datetime.now(UTC), Chat(**chat))) for i in (1, 2)]
        assert await inbox.receive(updates) == 2
        await eventually(lambda: len(seen) >= 2 or None, 10, "both updates recorded")
    finally:
        await inbox.stop()
    assert seen == [(1, 1, "handled"), (2, 2, "handled")]  # in the record's transaction
    assert not write_with_record(lambda session: asyncio.sleep(0))  # not in an update
