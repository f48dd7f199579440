"""Werkbegeleider fixtures: the e2e harness `h` (the real bot, polling the sandbox server)."""

from __future__ import annotations

from tests.e2e.conftest import h  # noqa: F401
