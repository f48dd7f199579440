"""Privacy fixtures: `hd`, the end-to-end harness with MENTORBOT_DELETE_ON_STOP=true (`h`, from
tests/conftest.py, keeps the data on /stop, the default)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import make_harness
from tests.harness import Harness


@pytest.fixture
async def hd(database_url: str) -> AsyncIterator[Harness]:
    """The e2e harness with deleting on /stop switched on."""
    async with make_harness(database_url, MENTORBOT_DELETE_ON_STOP=True) as harness:
        yield harness
