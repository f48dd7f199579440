"""`mentorbot demo`: runs the demo with a progress bar and says where everything is."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bot.demo.run import run_demo

STEPS_PER_WEEK = 3
FIXED_STEPS = 4  # set-up, joining, digest, downloads


def run_demo_command(out: Path, weeks: int, seed: int, out_console: Console) -> None:
    logging.basicConfig(level=logging.ERROR)  # the demo's own story is the progress bar
    total = FIXED_STEPS + STEPS_PER_WEEK * weeks
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=out_console, transient=False) as progress:
        task = progress.add_task("starting", total=total)

        def step(description: str) -> None:
            progress.update(task, advance=1, description=description)

        result = asyncio.run(run_demo(out, weeks=weeks, seed=seed, step=step))
        progress.update(task, completed=total, description="done")
    out_console.print()
    out_console.print(f"[bold]Demo finished.[/bold] Everything is in {result.out_dir.resolve()}:")
    labels = {
        "student": "one student's check-ins (transcript)",
        "werkbegeleider": "a werkbegeleider's observations (transcript)",
        "mentors": "the mentor team's group: alerts and digests (transcript)",
        "grafiek.png": "the class chart (skills × weeks)",
        "grafiek-beide-blikken.png": "both views per skill: self-rating and workplace",
        "export.csv": "the CSV export of all answers",
    }
    for key, path in result.files.items():
        out_console.print(f"  {path.name:<28} {labels.get(key, '')}")
    out_console.print(f"  alerts sent to the mentor team: {result.alerts}")
    if result.violations:
        out_console.print(f"[red]Bot API violations: {len(result.violations)}[/red]")
