"""One word per concept (docs/woordenlijst.md): what a student reads uses the students' words."""

from __future__ import annotations

import re

from bot.texts import catalogue

# Texts only the mentor team, the steering group or the coordinator read.
STAFF = (
    "alert.", "mentor.", "digest.", "observer.", "trends.", "now.", "link.", "team.", "cmd.",
    "help.mentor", "help.observer", "enrol.mentor_welcome", "enrol.observer_welcome",
    "privacy.team_", "question.to_team", "role.", "input.mentor_only", "export.", "plan.show.",
)  # fmt: skip
AVOID = {
    r"\bronde": "de vragen van deze week",
    r"\breflectieronde": "je reflectie",
    r"check-in": "de vragen van deze week",
    r"\bBPV": "stage",
    r"\bdocent": "je mentorteam",
    r"\bpraktijkopleider": "je mentorteam",
    r"\bpraktijkbegeleider": "je werkbegeleider",
    r"\bje mentor\b": "je mentorteam",
    r"\bscoor": "je eigen inschatting",
    r"\b[Uu]\b": "je",
    r"'[^']+'": "„…”",
}


def student_texts() -> dict[str, str]:
    return {k: v["nl"] for k, v in catalogue().items() if not k.startswith(STAFF)}


def test_student_texts_use_the_students_words() -> None:
    texts = student_texts()
    assert len(texts) > 40
    wrong = [
        f"{key}: {pattern!r} → {instead}"
        for key, text in texts.items()
        for pattern, instead in AVOID.items()
        if re.search(pattern, text)
    ]
    assert wrong == []


def test_no_student_text_names_a_weekday() -> None:
    """Each class chooses its own times: days come from the cohort, never from the text."""
    days = r"\b(maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag)\b"
    assert [k for k, text in student_texts().items() if re.search(days, text, re.I)] == []
