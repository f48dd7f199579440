"""The regiegroep's view: /trends (aggregates over groups of at least five)."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler


def observer_handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Handlers of this feature, registered in group 0 before the fallbacks."""
    return []
