"""A failing handler is logged with its update id and the user is told; the token never
reaches a log line, even at DEBUG."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from bot.runtime.config import Settings
from bot.runtime.logs import configure_logging
from tests.conftest import TEST_TOKEN
from tests.harness import Harness


@pytest.fixture
def log_stream(h: Harness) -> Iterator[io.StringIO]:
    """Everything the bot logs, at DEBUG, through the production logging setup."""
    root = logging.getLogger()
    before, level = root.handlers[:], root.level
    stream = io.StringIO()
    settings: Settings = h.state.config().model_copy(update={"log_level": "DEBUG"})
    configure_logging(settings, stream)  # replaces the root handlers, as in production
    [ours] = root.handlers
    root.handlers[:] = [*before, ours]  # pytest's own capture handlers stay in place
    try:
        yield stream
    finally:
        root.removeHandler(ours)
        root.setLevel(level)


async def test_handler_error_is_logged_with_update_id_and_user_is_told(
    h: Harness, log_stream: io.StringIO
) -> None:
    cohort_id = await h.cohort()
    eva = h.api.add_user("Eva")
    await h.join(eva, await h.code(cohort_id))
    async with h.db.transaction() as s:  # a real fault: the table the handler needs is gone
        await s.execute(text("DROP TABLE user_settings"))
    mark = h.api.mark(eva)
    update_id = await h.api.send_text(eva, "/taal en")
    reply = await h.api.wait_for_message(eva, since=mark)
    assert reply.text.startswith("Sorry, dat is niet gelukt")
    logged = log_stream.getvalue()
    assert f"handler failed for update {update_id}" in logged
    assert "Traceback" not in reply.text


async def test_token_never_appears_in_logs(h: Harness, log_stream: io.StringIO) -> None:
    cohort_id = await h.cohort()
    for name in ("Anna", "Bram"):
        user = h.api.add_user(name)
        await h.join(user, await h.code(cohort_id))
        await h.say(user, "/help")
    logged = log_stream.getvalue()
    assert len(logged.splitlines()) > 10, "the scenario should have produced DEBUG logging"
    secret_half = TEST_TOKEN.split(":", 1)[1]
    assert TEST_TOKEN not in logged and secret_half not in logged


async def test_answers_never_reach_the_log_at_info(h: Harness) -> None:
    root = logging.getLogger()
    before, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(h.state.config().model_copy(update={"log_level": "INFO"}), stream)
    [ours] = root.handlers
    root.handlers[:] = [*before, ours]
    secret_words = "Mijn geheime reflectie over de peutergroep"
    try:
        cohort_id = await h.cohort()
        sam = h.api.add_user("Sam")
        await h.join(sam, await h.code(cohort_id))
        await h.state.live().scheduler.push(cohort_id, "reflection", week=1)
        question = await h.api.wait_for_message(sam, lambda m: "Vraag 1" in (m.text or ""))
        while "1" in [b["text"] for b in question.buttons()]:
            mark = h.api.mark(sam)
            await h.api.press(sam, question, "3")
            question = await h.api.wait_for_message(
                sam, lambda m: "Vraag" in (m.text or ""), since=mark
            )
        mark = h.api.mark(sam)
        await h.api.send_text(sam, secret_words)
        await h.api.wait_for_message(sam, lambda m: "Opgeslagen" in (m.text or ""), since=mark)
    finally:
        root.removeHandler(ours)
        root.setLevel(level)
    logged = stream.getvalue()
    assert "round opened" in logged  # the scenario did log at INFO
    assert secret_words not in logged and TEST_TOKEN not in logged
