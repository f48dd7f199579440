"""The cohort's answers as a CSV file (UTF-8, header row, one row per answer)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from storage.db import Session
from storage.records import StoredAnswer

HEADER = ["week", "student", "question", "skill", "rating", "choice", "text", "answered_at"]
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """Spreadsheet programs run a cell starting with = + - @ as a formula: quote it."""
    return "'" + value if value.startswith(_FORMULA) else value


def answers_csv(answers: list[StoredAnswer]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for a in answers:
        if a.question_key.startswith("__"):
            continue  # the bot's own bookkeeping (expectations read, question prompts)
        writer.writerow(
            [
                a.week,
                safe_cell(a.student),
                a.question_key,
                a.skill or "",
                "" if a.rating is None else a.rating,
                safe_cell(a.choice or ""),
                safe_cell(a.text or ""),
                a.answered_at.isoformat(timespec="seconds"),
            ]
        )
    return buffer.getvalue().encode("utf-8")


def export_filename(cohort_name: str, today: date) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", cohort_name).strip("-") or "klas"
    return f"{safe}-antwoorden-{today.isoformat()}.csv"


async def cohort_csv(session: Session, cohort_id: int) -> tuple[bytes, int]:
    """The cohort's answers as CSV bytes, and how many rows (the same as /export sends)."""
    from bot.gaps.cohort_data import load_cohort_data

    data = await load_cohort_data(session, cohort_id)
    if data is None:
        return answers_csv([]), 0
    rows = [a for a in data.answers if not a.question_key.startswith("__")]
    return answers_csv(rows), len(rows)


LOOP_HEADER = ["student", "date", "kind", "text", "follow_up_week", "outcome",
               "student_words", "by"]  # fmt: skip


def loop_csv(rows: list[list[str]]) -> bytes:
    """The cohort's agreements, meeting notes and compliments (bot.loop.timeline)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(LOOP_HEADER)
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode("utf-8")
