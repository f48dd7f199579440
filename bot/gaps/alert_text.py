"""The words of an alert: what a praktijkopleider reads in five seconds (no I/O, no Telegram).

Who (with the BPV organisation), which skill (its short name), both views side by side
("Zelf: 2 · 3 · 2 — Werkplek: oefenen · oefenen · voldoende"), the student's own words, and
what to do next ("Meer: /student Anna de Vries"), in the team's language. The evidence comes
from the stored alert (``bot.gaps.alerts.evidence_of``), so an alert raised before a restart
reads the same afterwards.
"""

from __future__ import annotations

import re
from typing import Any

from bot.gaps.cohort_data import CohortData, shorten
from bot.outbox.queue import Outgoing
from bot.outbox.team import DEFAULT_TEAM_LANGUAGE
from bot.texts import t

PREFIX = "al:"
TEAM_LANGUAGE = DEFAULT_TEAM_LANGUAGE  # English when every mentor chose it (team_language)
MAX_WORDS = 3
WORDS_LIMIT = 200
SEP = " · "
_CLASS_NOTE = re.compile(r"class mean ([\d.]+|-), (\d+) of (\d+) low")
_RATINGS_NOTE = re.compile(r"\(ratings ([\d,]*)\)")


def skill_label(data: CohortData, key: str | None, lang: str = TEAM_LANGUAGE) -> str:
    """The skill's short name in ``lang`` (its title when it has none, Dutch when the plan
    gives no English); the key when the plan lost the skill."""
    if key is None:
        return ""
    try:
        return data.plan.skill(key).label_in(lang)
    except KeyError:
        return key


def subject(member_id: int | None, data: CohortData, lang: str = TEAM_LANGUAGE) -> str:
    """Who an alert is about: the student's name, or "de klas"."""
    if member_id is None:
        return t("alert.the_class", lang)
    return data.name(member_id)


def _organisation(member_id: int | None, data: CohortData, lang: str) -> str:
    student = data.students.get(member_id or -1)
    if student is None or not student.organisation:
        return ""
    return t("alert.org", lang, org=student.organisation)


def _status(status: str, raised_week: int, data: CohortData) -> str:
    """ "nieuw" in the week it was raised, "open" after that."""
    latest = data.rounds[-1].week if data.rounds else raised_week
    return "new" if status == "open" and raised_week >= latest else status


def summary_line(alert: Any, data: CohortData, lang: str = TEAM_LANGUAGE) -> str:
    """One line for /gaten and the digest (``alert``: a stored ``AlertRecord``)."""
    what = skill_label(data, alert.skill, lang)
    kind = t(f"alert.kind.{alert.kind}", lang)
    if what and alert.kind == "blind_spot":
        what = f"{kind}: {what}"
    status = t(f"alert.status.{_status(alert.status, alert.raised_week, data)}", lang)
    return t(
        "alert.line",
        lang,
        id=alert.id,
        who=subject(alert.member_id, data, lang),
        what=what or kind,
        week=alert.raised_week,
        status=status,
    )


def render_alert(
    alert_id: int | str,
    kind: str,
    member_id: int | None,
    skill: str | None,
    evidence: dict[str, Any],
    data: CohortData,
    *,
    again: bool = False,
    lang: str = TEAM_LANGUAGE,
) -> Outgoing:
    """The alert message: header, evidence, next step, and the three buttons (`alert_id`: a
    mark for it when it is not written yet, `storage.repos.outbox.NEW_ID`)."""
    items: list[dict[str, Any]] = list(evidence.get("items", []))
    asks = [e for e in items if e.get("skill") and not e.get("text") and e.get("student_id")]
    if kind == "decline":
        skill = next((e["skill"] for e in items if e.get("skill") and e.get("rating") is None),
                     None)  # fmt: skip
    count = len(evidence.get("weeks", []))
    lines = [_header(kind, member_id, skill, asks, count, data, lang)]
    if again:
        lines.append(t("alert.again", lang))
    lines.append("")
    if kind in ("student_gap", "blind_spot"):
        lines += _series(asks, lang)
    elif kind == "class_gap":
        lines += _class_lines(items, data, lang)
    elif kind == "silence":
        lines += [t("alert.ev.silence", lang, week=e.get("week")) for e in items]
    elif kind == "decline":
        lines += _decline_lines(items, skill, data, lang)
    words = [
        t("alert.words", lang, week=e.get("week"), text=shorten(e["text"], WORDS_LIMIT))
        for e in items
        if e.get("text")
    ]
    if words:
        lines += ["", *words[-MAX_WORDS:]]  # the latest words are the most telling
    lines += ["", _next_step(member_id, data, lang)]
    buttons = [
        [
            (t("alert.button.ack", lang), f"{PREFIX}{alert_id}:ack"),
            (t("alert.button.talk", lang), f"{PREFIX}{alert_id}:talk"),
        ],
        [(t("alert.button.mute", lang), f"{PREFIX}{alert_id}:mute")],
    ]
    if member_id is not None:  # an agreement is made with one student, never with a class
        buttons[1].insert(0, (t("alert.button.deal", lang), f"{PREFIX}{alert_id}:deal"))
    return Outgoing(shorten_message("\n".join(lines)), buttons)


def shorten_message(text: str, limit: int = 3800) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _header(
    kind: str,
    member_id: int | None,
    skill: str | None,
    asks: list[dict[str, Any]],
    count: int,
    data: CohortData,
    lang: str,
) -> str:
    key = kind
    if kind == "student_gap":
        self_low = any(e.get("rating") in (1, 2) or "help" in (e.get("note") or "") for e in asks)
        work_low = any(e.get("observed") is not None and e["observed"] <= 1 for e in asks)
        if work_low:
            key = "student_gap_both" if self_low else "student_gap_workplace"
    elif kind == "decline" and skill is None:
        key = "decline_any"
    return t(
        f"alert.header.{key}",
        lang,
        name=subject(member_id, data, lang),
        org=_organisation(member_id, data, lang),
        skill=skill_label(data, skill, lang),
        count=count,
        cohort=data.cohort.name,
    )


def _own_view(e: dict[str, Any], lang: str) -> str:
    helped = "help" in (e.get("note") or "")
    if e.get("rating") is None:
        return t("alert.series.help", lang) if helped else t("alert.series.none", lang)
    rating = str(e["rating"])
    return t("alert.series.rating_help", lang, rating=rating) if helped else rating


def _series(asks: list[dict[str, Any]], lang: str) -> list[str]:
    """The weeks, then both views side by side, one value per week."""
    weeks = SEP.join(str(e.get("week")) for e in asks)
    own = SEP.join(_own_view(e, lang) for e in asks)
    seen = [e.get("observed") for e in asks]
    if all(level is None for level in seen):
        both = t("alert.series.no_workplace", lang, own=own)
    else:
        work = SEP.join(
            t("alert.series.none", lang) if level is None else t(f"alert.level.{level}", lang)
            for level in seen
        )
        both = t("alert.series.both", lang, own=own, work=work)
    return [t("alert.series.weeks", lang, weeks=weeks), both]


def _class_lines(items: list[dict[str, Any]], data: CohortData, lang: str) -> list[str]:
    lines = []
    for e in items:
        note = e.get("note") or ""
        if e.get("text"):
            continue
        if e.get("student_id") is None:
            match = _CLASS_NOTE.search(note)
            if match is None or match.group(3) == "0":
                continue  # a round nobody has answered yet is no evidence either way
            lines.append(t("alert.ev.class", lang, week=e.get("week"),
                           mean=match.group(1).replace(".", ","), low=match.group(2),
                           total=match.group(3)))  # fmt: skip
            continue
        found = _RATINGS_NOTE.search(note)
        ratings = SEP.join((found.group(1) if found else "").split(","))
        name = data.name(e.get("student_id"))
        lines.append(t("alert.ev.class_student", lang, name=name, ratings=ratings))
    return lines


def _decline_lines(
    items: list[dict[str, Any]], skill: str | None, data: CohortData, lang: str
) -> list[str]:
    """One skill's ratings before and now; the other skills that went down by name."""
    before: dict[str, list[int]] = {}
    now: dict[str, list[int]] = {}
    for e in items:
        if e.get("rating") is None or not e.get("skill"):
            continue
        into = now if e.get("note") == "rating now" else before
        into.setdefault(e["skill"], []).append(int(e["rating"]))
    if skill is None or skill not in now:
        return []
    lines = [
        t("alert.ev.decline", lang, skill=skill_label(data, skill, lang),
          before=SEP.join(map(str, before.get(skill, []))), now=SEP.join(map(str, now[skill])))
    ]  # fmt: skip
    also = [
        k
        for k in sorted(now)
        if k != skill and k in before and _mean(now[k]) - _mean(before[k]) <= -1.0
    ]
    if also:
        names = ", ".join(
            t("alert.skill_quoted", lang, skill=skill_label(data, k, lang)) for k in also
        )
        lines.append(t("alert.ev.decline_also", lang, skills=names))
    return lines


def _mean(values: list[int]) -> float:
    return sum(values) / len(values)


def _next_step(member_id: int | None, data: CohortData, lang: str) -> str:
    if member_id is None:
        return t("alert.next.class", lang)
    return t("alert.next.student", lang, name=data.name(member_id))
