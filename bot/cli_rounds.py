"""CLI commands about rounds (push). Registered on the main Typer app by bot.cli."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
