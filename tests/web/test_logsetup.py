"""The log line format: `ts level logger msg key=value…`, one line per event, secrets scrubbed."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest

from bot.runtime.logs import bind, bound, configure_logging, redact_also, reset_bound
from tests.conftest import TEST_TOKEN, make_settings

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARNING|ERROR) [\w.]+ .+$")


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    out = io.StringIO()
    configure_logging(make_settings("sqlite+aiosqlite:///x.db", "http://127.0.0.1:1"), out)
    token = reset_bound()
    try:
        yield out
    finally:
        reset_bound()
        del token
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


def test_one_line_with_bound_fields(stream: io.StringIO) -> None:
    log = logging.getLogger("handlers.checkin")
    reset_bound(update=812)
    bind(cohort=3, ignored=None)
    assert dict(bound()) == {"update": 812, "cohort": 3}
    log.info("answer stored kind=%s", "rating")
    bind(note="two words")
    log.warning("second\nline")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and all(LINE.match(line) for line in lines), lines
    assert lines[0].endswith("INFO handlers.checkin answer stored kind=rating update=812 cohort=3")
    assert lines[1].endswith('second\\nline update=812 cohort=3 note="two words"')


def test_a_traceback_stays_on_the_line_and_the_secrets_are_scrubbed(stream: io.StringIO) -> None:
    redact_also("hook-Secret_42")
    log = logging.getLogger("bot.outbox.sender")
    try:
        raise RuntimeError(f"boom {TEST_TOKEN} hook-Secret_42")
    except RuntimeError:
        log.exception("send failed for %s", TEST_TOKEN.split(":", 1)[1])
    text = stream.getvalue()
    assert len(text.splitlines()) == 1
    assert 'exc="Traceback (most recent call last):\\n' in text and "RuntimeError: boom" in text
    assert TEST_TOKEN not in text and TEST_TOKEN.split(":", 1)[1] not in text
    assert "hook-Secret_42" not in text
