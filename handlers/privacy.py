"""A student's own data: /mijngegevens and /stop."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler


def privacy_handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Handlers of this feature, registered in group 0 before the fallbacks."""
    return []
