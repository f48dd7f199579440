"""The cohort's answers as a CSV file (UTF-8, header row, one row per answer). The `source`
column says whose view a row is: the student's own answer or the werkbegeleider's
observation of the workplace (the level as a word in `choice`, the optional line in `text`).

Column names and the fixed words in cells (source, level, kind, outcome) are in the
exporter's language (`bot/texts/export.yaml`); the column order is the same in both, so a
sheet built on one language's export reads the other by position. Question keys and skill
keys are the plan's identifiers and stay as they are."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING

from bot.texts import DEFAULT_LANGUAGE, t
from storage.db import Session
from storage.records import ObservationRecord, StoredAnswer
from storage.repos.observations import NOTE_SKILL

if TYPE_CHECKING:
    from bot.gaps.cohort_data import CohortData

COLUMNS = ("week", "student", "question", "skill", "rating", "choice", "text", "answered_at",
           "source")  # fmt: skip
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """Spreadsheet programs run a cell starting with = + - @ as a formula: quote it."""
    return "'" + value if value.startswith(_FORMULA) else value


def header(columns: Sequence[str], lang: str) -> list[str]:
    return [t(f"export.column.{column}", lang) for column in columns]


def level_word(level: int | None, lang: str) -> str:
    """An observation's level as the werkbegeleider tapped it."""
    return t("export.level.not_seen" if level is None else f"alert.level.{level}", lang)


def answers_csv(
    answers: list[StoredAnswer],
    observations: Sequence[ObservationRecord] = (),
    names: Mapping[int, str] | None = None,
    lang: str = DEFAULT_LANGUAGE,
) -> bytes:
    """Both views: the students' answers, then the werkbegeleiders' observations (`names`
    gives the student's name of an observation)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header(COLUMNS, lang))
    own, workplace = t("export.source.student", lang), t("export.source.werkbegeleider", lang)
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
                own,
            ]
        )
    for o in observations:
        line = o.skill == NOTE_SKILL
        question = "export.question.observation_line" if line else "export.question.observation"
        writer.writerow(
            [
                o.week,
                safe_cell((names or {}).get(o.student_id, "?")),
                t(question, lang),
                "" if line else o.skill,
                "",
                "" if line else level_word(o.level, lang),
                safe_cell(o.text or ""),
                o.answered_at.isoformat(timespec="seconds"),
                workplace,
            ]
        )
    return buffer.getvalue().encode("utf-8")


def cohort_rows(data: CohortData, lang: str = DEFAULT_LANGUAGE) -> tuple[bytes, int]:
    """The CSV of a loaded cohort and its number of rows (answers and observations)."""
    rows = [a for a in data.answers if not a.question_key.startswith("__")]
    names = {m.id: m.name for m in data.students.values()}
    content = answers_csv(rows, data.observations, names, lang)
    return content, len(rows) + len(data.observations)


def export_filename(
    cohort_name: str, today: date, lang: str = DEFAULT_LANGUAGE, what: str = "answers"
) -> str:
    """`what`: "answers" or "agreements" (the file of agreements, notes and compliments)."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", cohort_name).strip("-") or t("export.file.class", lang)
    return f"{safe}-{t(f'export.file.{what}', lang)}-{today.isoformat()}.csv"


async def cohort_csv(
    session: Session, cohort_id: int, lang: str = DEFAULT_LANGUAGE
) -> tuple[bytes, int]:
    """The cohort's answers as CSV bytes, and how many rows (the same as /export sends)."""
    from bot.gaps.cohort_data import load_cohort_data

    data = await load_cohort_data(session, cohort_id)
    if data is None:
        return answers_csv([], lang=lang), 0
    return cohort_rows(data, lang)


LOOP_COLUMNS = ("student", "date", "kind", "text", "follow_up_week", "outcome", "student_words",
                "workplace_outcome", "workplace_words", "by")  # fmt: skip
"""An agreement's two views: the student's answer in the reflection and, for an agreement
shared with the workplace, the werkbegeleider's in the observation (bot.loop.workplace)."""


def loop_csv(rows: list[list[str]], lang: str = DEFAULT_LANGUAGE) -> bytes:
    """The cohort's agreements, meeting notes and compliments (bot.loop.timeline)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header(LOOP_COLUMNS, lang))
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode("utf-8")
