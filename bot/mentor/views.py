"""What mentors read about their class: this week's overview, open gaps, one student's
history, the skills × weeks means for the chart. Texts in Dutch or English; no Telegram."""

from __future__ import annotations

import difflib
import html
from dataclasses import dataclass

from bot.charts.matrix import Matrix
from bot.gaps.alert_text import summary_line
from bot.gaps.cohort_data import CohortData
from bot.observe.views import WorkplaceResponse, letter
from bot.texts import t
from storage.records import AlertRecord, MemberRecord
from storage.repos.observations import NOTE_SKILL

HISTORY_WEEKS = 8
LABEL_WIDTH = 14
MAX_ALERT_LINES = 10


def overview_text(
    data: CohortData, open_alerts: int, lang: str, workplace: WorkplaceResponse | None = None
) -> str:
    """This week's reflection round: who completed it, who did not, open alerts; and the
    latest observation round's response when werkbegeleiders take part."""
    text = _reflection_overview(data, open_alerts, lang)
    if workplace is not None and workplace.total:
        text += "\n" + t("observe.overview_line", lang, week=workplace.week,
                         answered=workplace.answered, total=workplace.total,
                         percent=workplace.percent)  # fmt: skip
    return text


def _reflection_overview(data: CohortData, open_alerts: int, lang: str) -> str:
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
    lines += [summary_line(a, data, lang) for a in alerts]
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
    data: CohortData,
    student: MemberRecord,
    alerts: list[AlertRecord],
    lang: str,
    werkbegeleiders: list[str] | None = None,
) -> str:
    """A compact table (HTML <pre>) of the student's ratings per skill over the last weeks,
    with the workplace's observations in the row under each skill (both views)."""
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
    observed = workplace_letters(data, student.id)
    done = sum(1 for r in data.rounds if student.id in data.completed.get(r.id, set()))
    rounds_line = t("mentor.student_rounds", lang, done=done, total=len(data.rounds))
    parts = [html.escape(header), html.escape(rounds_line)]
    if werkbegeleiders is not None:
        names = ", ".join(werkbegeleiders) or t("mentor.nobody", lang)
        parts.append(html.escape(t("observe.student_linked", lang, names=names)))
    if not ratings and not observed:
        parts.append(html.escape(t("mentor.student_none", lang, name=student.name)))
    else:
        weeks = sorted({w for _, w in ratings} | {w for _, w in observed})[-HISTORY_WEEKS:]
        seen = set(ratings) | set(observed)
        skills = [s.key for s in data.plan.skills if any((s.key, w) in seen for w in weeks)]
        skills += sorted({k for k, _ in seen} - set(skills) - {s.key for s in data.plan.skills})
        rows = [_row("Week", [str(w) for w in weeks])]
        for skill in skills:
            cells = []
            for w in weeks:
                value = ratings.get((skill, w))
                cell = "·" if value is None else str(value)
                cells.append(cell + ("!" if (skill, w) in helps else ""))
            rows.append(_row(_label(data, skill, lang), cells))
            if any((skill, w) in observed for w in weeks):
                workplace = [observed.get((skill, w), "·") for w in weeks]
                rows.append(_row("  " + t("observe.workplace_row", lang), workplace))
        parts.append("<pre>" + html.escape("\n".join(rows)) + "</pre>")
        if observed:
            parts.append(html.escape(t("observe.student_legend", lang)))
    mine = [a for a in alerts if a.member_id == student.id][:MAX_ALERT_LINES]
    if mine:
        parts.append(html.escape(t("mentor.student_open", lang)))
        parts += [html.escape(summary_line(a, data, lang)) for a in mine]
    return "\n".join(parts)


def _label(data: CohortData, key: str, lang: str) -> str:
    try:
        label = data.plan.skill(key).label_in(lang)
    except KeyError:
        label = key
    return label if len(label) <= LABEL_WIDTH else label[: LABEL_WIDTH - 1] + "…"


def _row(label: str, cells: list[str]) -> str:
    return f"{label:<{LABEL_WIDTH}}" + "".join(f"{c:>3}" for c in cells)


def workplace_letters(data: CohortData, student_id: int) -> dict[tuple[str, int], str]:
    """(skill, week) -> the werkbegeleiders' taps as letters (N O V G, - niet gezien);
    two werkbegeleiders in one week show both, e.g. "OV"."""
    letters: dict[tuple[str, int], str] = {}
    for o in data.observations:
        if o.student_id == student_id and o.skill != NOTE_SKILL:
            key = (o.skill, o.week)
            letters[key] = (letters.get(key, "") + letter(o.level))[-2:]
    return letters


def both_views_matrices(data: CohortData, last_weeks: int = 12) -> tuple[Matrix, Matrix] | None:
    """Per skill and week the class's mean self-rating and the workplace's mean level
    (0 nooit … 3 goed); None while no werkbegeleider has observed anything."""
    levels: dict[tuple[str, int], list[int]] = {}
    for o in data.observations:
        if o.level is not None and o.skill != NOTE_SKILL:
            levels.setdefault((o.skill, o.week), []).append(o.level)
    if not levels:
        return None
    own: dict[tuple[str, int], list[int]] = {}
    for a in data.answers:
        if a.kind == "rating" and a.rating is not None and a.skill and not a.skipped:
            own.setdefault((a.skill, a.week), []).append(a.rating)
    weeks = sorted({w for _, w in levels} | {w for _, w in own})[-last_weeks:]
    keys = [s.key for s in data.plan.skills if any((s.key, w) in levels for w in weeks)]

    def means(source: dict[tuple[str, int], list[int]]) -> list[list[float | None]]:
        return [[sum(v) / len(v) if (v := source.get((k, w))) else None for w in weeks]
                for k in keys]  # fmt: skip

    titles = [str(data.plan.skill(k).label) for k in keys]
    return Matrix(titles, weeks, means(own)), Matrix(titles, weeks, means(levels))
