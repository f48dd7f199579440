"""The cohort's answers as a CSV file (UTF-8, header row, one row per answer). The `source`
column says whose view a row is: `student` (their own answer) or `werkbegeleider` (an
observation of the workplace: the level as a word in `choice`, the optional line in `text`)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING

from storage.db import Session
from storage.records import ObservationRecord, StoredAnswer
from storage.repos.observations import NOTE_SKILL

if TYPE_CHECKING:
    from bot.gaps.cohort_data import CohortData

HEADER = [
    "week",
    "student",
    "question",
    "skill",
    "rating",
    "choice",
    "text",
    "answered_at",
    "source",
]
LEVEL_WORDS = ("nooit", "oefenen", "voldoende", "goed")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """Spreadsheet programs run a cell starting with = + - @ as a formula: quote it."""
    return "'" + value if value.startswith(_FORMULA) else value


def answers_csv(
    answers: list[StoredAnswer],
    observations: Sequence[ObservationRecord] = (),
    names: Mapping[int, str] | None = None,
) -> bytes:
    """Both views: the students' answers, then the werkbegeleiders' observations (`names`
    gives the student's name of an observation)."""
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
                "student",
            ]
        )
    for o in observations:
        line = o.skill == NOTE_SKILL
        level = "" if line else ("niet gezien" if o.level is None else LEVEL_WORDS[o.level])
        writer.writerow(
            [
                o.week,
                safe_cell((names or {}).get(o.student_id, "?")),
                "observatie_zin" if line else "observatie",
                "" if line else o.skill,
                "",
                level,
                safe_cell(o.text or ""),
                o.answered_at.isoformat(timespec="seconds"),
                "werkbegeleider",
            ]
        )
    return buffer.getvalue().encode("utf-8")


def cohort_rows(data: CohortData) -> tuple[bytes, int]:
    """The CSV of a loaded cohort and its number of rows (answers and observations)."""
    rows = [a for a in data.answers if not a.question_key.startswith("__")]
    names = {m.id: m.name for m in data.students.values()}
    content = answers_csv(rows, data.observations, names)
    return content, len(rows) + len(data.observations)


def export_filename(cohort_name: str, today: date) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", cohort_name).strip("-") or "klas"
    return f"{safe}-antwoorden-{today.isoformat()}.csv"


async def cohort_csv(session: Session, cohort_id: int) -> tuple[bytes, int]:
    """The cohort's answers as CSV bytes, and how many rows (the same as /export sends)."""
    from bot.gaps.cohort_data import load_cohort_data

    data = await load_cohort_data(session, cohort_id)
    if data is None:
        return answers_csv([]), 0
    return cohort_rows(data)


LOOP_HEADER = ["student", "date", "kind", "text", "follow_up_week", "outcome",
               "student_words", "by"]  # fmt: skip


def loop_csv(rows: list[list[str]]) -> bytes:
    """The cohort's agreements, meeting notes and compliments (bot.loop.timeline)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(LOOP_HEADER)
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode("utf-8")
