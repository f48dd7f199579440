"""Guards that run before every other handler (group -2): e.g. a per-user flood limit."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler


def guard_handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Handlers registered in group -2, ahead of everything else."""
    return []
