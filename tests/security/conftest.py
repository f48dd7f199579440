"""Security tests: the real bot against the sandbox Bot API server, through the e2e harness
`h` (a real Application polling the sandbox, on SQLite and PostgreSQL)."""

from tests.e2e.conftest import h  # noqa: F401
