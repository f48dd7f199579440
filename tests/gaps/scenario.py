"""A scripted class with both views: the alerts it raises are the manual's examples.

Six weeks of the default plan's skills, five students with a BPV organisation each, one
werkbegeleider per student. Everything is built from plain records, so the rules and the
alert texts run exactly as in production, without a database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.gaps.alert_text import render_alert
from bot.gaps.alerts import evidence_of
from bot.gaps.cohort_data import CohortData
from bot.gaps.rules import (
    CohortAnswers,
    GapSettings,
    RatingAnswer,
    ReflectionRound,
    StudentWords,
    WorkplaceObservation,
    evaluate,
)
from bot.plans import default_plan
from storage.records import CohortRecord, MemberRecord, RoundRecord

WEEKS = 6
STUDENTS = {
    1: ("Anna de Vries", "Kinderopvang De Zonnebloem"),
    2: ("Bram Jansen", "Kindcentrum Het Anker"),
    3: ("Cem Yılmaz", "BSO De Ontdekking"),
    4: ("Daan Bakker", "Kinderopvang De Zonnebloem"),
    5: ("Eva Smit", "Kindcentrum Het Anker"),
}
# skill -> weeks that asked it (each skill every third week, as the default plan does)
ASKED = {"samenwerken": (1, 4), "veilig-klimaat": (2, 5), "evalueren": (3, 6)}
ASKED_LATE = {"samenwerken": (1, 4, 7)}
LEVEL = {0: "nooit", 1: "oefenen", 2: "voldoende", 3: "goed"}

# (student, skill): self-ratings and the workplace's view, one per ask (None: no observation)
SERIES: dict[tuple[int, str], tuple[tuple[int, ...], tuple[int | None, ...]]] = {
    (1, "samenwerken"): ((2, 3, 2), (1, 1, 1)),  # Anna: the workplace confirms
    (2, "veilig-klimaat"): ((4, 5), (0, 0)),  # Bram: blinde vlek
    (3, "evalueren"): ((2, 1), (2, 3)),  # Cem: stricter than the workplace
    (5, "evalueren"): ((2, 2), (None, None)),
    (1, "evalueren"): ((2, 3), (2, None)),
    (2, "evalueren"): ((1, 2), (1, 1)),
}
WORDS = {(1, 7): "Bij de overdracht aan ouders wist ik niet wat ik mocht vertellen."}


def _weeks(skill: str, student: int) -> tuple[int, ...]:
    return (ASKED_LATE if student == 1 else ASKED).get(skill) or ASKED[skill]


def answers() -> CohortAnswers:
    """Seven weekly rounds; Daan (4) joined and answered nothing in weeks 6 and 7."""
    ratings, observations = [], []
    for (sid, skill), (own, work) in SERIES.items():
        for week, rating, level in zip(_weeks(skill, sid), own, work, strict=False):
            ratings.append(RatingAnswer(sid, week, skill, rating))
            if level is not None:
                observations.append(WorkplaceObservation(sid, week, skill, level, 100 + sid))
    rounds = []
    for week in range(1, WEEKS + 2):
        skills = tuple(k for k, ws in {**ASKED, **ASKED_LATE}.items() if week in ws)
        everyone = frozenset(s for s in STUDENTS if s != 4 or week >= 6)
        answered = frozenset(s for s in STUDENTS if s != 4 and (s == 1 or week <= WEEKS))
        rounds.append(ReflectionRound(week, skills, everyone, answered))
    words = tuple(StudentWords(sid, week, text) for (sid, week), text in WORDS.items())
    return CohortAnswers(tuple(rounds), tuple(ratings), (), words, tuple(observations))


def cohort_data() -> CohortData:
    now = datetime(2026, 10, 16, 14, tzinfo=UTC)
    cohort = CohortRecord(1, "PW3A", "Europe/Amsterdam", date(2026, 9, 7), "mon 08:00",
                          "fri 14:00", "sun 18:00", "mon 07:00", 1, None, 1)  # fmt: skip
    students = {
        sid: MemberRecord(
            sid, 1, "student", name, org, 500 + sid, 500 + sid, "active", now, "1", now
        )
        for sid, (name, org) in STUDENTS.items()
    }
    rounds = [RoundRecord(w, 1, w, "reflection", "closed", now, now) for w in range(1, WEEKS + 2)]
    return CohortData(cohort, default_plan(), rounds, [], {}, {}, students)


def rendered_alerts(lang: str = "nl") -> list[str]:
    """Every alert of the scenario as the mentor team reads it, buttons as [labels]."""
    data = cohort_data()
    out = []
    for n, finding in enumerate(evaluate(answers(), GapSettings()), start=1):
        message = render_alert(n, finding.kind, finding.student_id, finding.skill,
                               evidence_of(finding), data, lang=lang)  # fmt: skip
        buttons = " ".join(f"[{label}]" for row in message.buttons for label, _ in row)
        out.append(f"{message.text}\n{buttons}")
    return out


def digest_lines(lang: str = "nl") -> list[str]:
    """The digest's lines about students stricter for themselves than their workplace."""
    from bot.gaps.digest import stricter_lines
    from bot.texts import t

    lines = stricter_lines(cohort_data(), answers(), lang)
    return [t("digest.stricter", lang), *lines] if lines else []
