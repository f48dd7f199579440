"""Observer tests reuse the end-to-end harness (real Application, sandbox Bot API server)."""

from tests.e2e.conftest import h  # noqa: F401
