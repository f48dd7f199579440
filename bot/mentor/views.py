"""What mentors read about their class: this week's overview, open gaps, one student's
history, the skills × weeks means for the chart. Texts in Dutch or English; no Telegram."""

from __future__ import annotations

import difflib
import html
from dataclasses import dataclass

from bot.gaps.alerts import summary_line
from bot.gaps.cohort_data import CohortData
from bot.texts import t
from storage.records import AlertRecord, MemberRecord

HISTORY_WEEKS = 8
LABEL_WIDTH = 14
MAX_ALERT_LINES = 10


def overview_text(data: CohortData, open_alerts: int, lang: str) -> str:
    """This week's reflection round: who completed it, who did not, open alerts."""
    if not data.rounds:
        return t("mentor.no_round", lang, cohort=data.cohort.name)
    rnd = data.rounds[-1]
    done_ids = data.completed.get(rnd.id, set())
    enrolled = data.enrolled.get(rnd.id, set()) | done_ids
    if not enrolled:
        enrolled = {m.id for m in data.students.values() if m.is_active}
    answered = sorted((data.name(m) for m in enrolled if m in done_ids), key=str.casefold)
    missing = sorted((data.name(m) for m in enrolled if m not in done_ids), key=str.casefold)
    nobody = t("mentor.nobody", lang)
    return t(
        "mentor.overview",
        lang,
        cohort=data.cohort.name,
        week=rnd.week,
        state=t("mentor.round_open" if rnd.is_open else "mentor.round_closed", lang),
        done=len(answered),
        total=len(enrolled),
        answered=", ".join(answered) or nobody,
        missing=", ".join(missing) or nobody,
        alerts=open_alerts,
    )


def gaps_text(data: CohortData, alerts: list[AlertRecord], lang: str) -> str:
    if not alerts:
        return t("mentor.gaps_none", lang, cohort=data.cohort.name)
    lines = [t("mentor.gaps_header", lang, cohort=data.cohort.name, count=len(alerts))]
    lines += [summary_line(a, data) for a in alerts]
    return "\n".join(lines)


@dataclass(frozen=True)
class StudentMatch:
    found: MemberRecord | None
    candidates: list[MemberRecord]


def find_student(students: list[MemberRecord], wanted: str) -> StudentMatch:
    """Loose name match: exact, then case-insensitive substring, then a close spelling."""
    key = " ".join(wanted.split()).casefold()
    if not key:
        return StudentMatch(None, [])
    exact = [s for s in students if s.name.casefold() == key]
    if len(exact) == 1:
        return StudentMatch(exact[0], exact)
    within = [s for s in students if key in s.name.casefold()]
    if len(within) == 1:
        return StudentMatch(within[0], within)
    if within:
        return StudentMatch(None, within)
    names: dict[str, list[MemberRecord]] = {}
    for s in students:
        for variant in {s.name.casefold(), *s.name.casefold().split()}:
            names.setdefault(variant, []).append(s)
    close = difflib.get_close_matches(key, list(names), n=5, cutoff=0.7)
    matched: dict[int, MemberRecord] = {}
    for name in close:
        for s in names[name]:
            matched.setdefault(s.id, s)
    found = list(matched.values())
    return StudentMatch(found[0] if len(found) == 1 else None, found)


def student_history_html(
    data: CohortData, student: MemberRecord, alerts: list[AlertRecord], lang: str
) -> str:
    """A compact table (HTML <pre>) of the student's ratings per skill over the last weeks."""
    header = t("mentor.student_header", lang, name=student.name, cohort=data.cohort.name)
    ratings: dict[tuple[str, int], int] = {}
    helps: set[tuple[str, int]] = set()
    for a in data.answers:
        if a.member_id != student.id or a.skipped:
            continue
        if a.kind == "rating" and a.rating is not None and a.skill:
            ratings[(a.skill, a.week)] = a.rating
        elif a.kind == "choice" and a.choice:
            skill = data.help_skill(a.week, a.question_key, a.choice)
            if skill:
                helps.add((skill, a.week))
    done = sum(1 for r in data.rounds if student.id in data.completed.get(r.id, set()))
    rounds_line = t("mentor.student_rounds", lang, done=done, total=len(data.rounds))
    parts = [html.escape(header), html.escape(rounds_line)]
    if not ratings:
        parts.append(html.escape(t("mentor.student_none", lang, name=student.name)))
    else:
        weeks = sorted({w for _, w in ratings})[-HISTORY_WEEKS:]
        skills = [s.key for s in data.plan.skills if any((s.key, w) in ratings for w in weeks)]
        skills += sorted({k for k, _ in ratings} - set(skills) - {s.key for s in data.plan.skills})
        rows = [_row("Week", [str(w) for w in weeks])]
        for skill in skills:
            cells = []
            for w in weeks:
                value = ratings.get((skill, w))
                cell = "·" if value is None else str(value)
                cells.append(cell + ("!" if (skill, w) in helps else ""))
            rows.append(_row(_label(data, skill, lang), cells))
        parts.append("<pre>" + html.escape("\n".join(rows)) + "</pre>")
    mine = [a for a in alerts if a.member_id == student.id][:MAX_ALERT_LINES]
    if mine:
        parts.append(html.escape(t("mentor.student_open", lang)))
        parts += [html.escape(summary_line(a, data)) for a in mine]
    return "\n".join(parts)


def _label(data: CohortData, key: str, lang: str) -> str:
    try:
        label = data.plan.skill(key).label_in(lang)
    except KeyError:
        label = key
    return label if len(label) <= LABEL_WIDTH else label[: LABEL_WIDTH - 1] + "…"


def _row(label: str, cells: list[str]) -> str:
    return f"{label:<{LABEL_WIDTH}}" + "".join(f"{c:>3}" for c in cells)
