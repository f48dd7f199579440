"""Does it work? The regiegroep's figures of the loop (docs/gap-rules.md): alerts about
students raised, the share with a learning agreement within two weeks, the students'
outcomes, and the median weeks from alert to resolved; across classes and per skill.

Only groups of at least `min_group` students are shown (a line counts the distinct students
behind its alerts); smaller ones are left out and counted, never named."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from storage.db import Session
from storage.records import AgreementRecord, AlertRecord
from storage.repos.alerts import AlertRepo
from storage.repos.loop import AgreementRepo

AGREEMENT_WITHIN = timedelta(weeks=2)
OUTCOMES = ("gelukt", "deels", "nog_niet")


@dataclass(frozen=True)
class EffectLine:
    skill: str | None  # None: every skill across the classes
    alerts: int
    with_agreement: int  # alerts with an agreement made within two weeks of being raised
    outcomes: tuple[int, int, int]  # gelukt, deels, nog niet (answered agreements)
    median_weeks: float | None  # raised → resolved, over the resolved alerts


@dataclass(frozen=True)
class Effect:
    lines: tuple[EffectLine, ...]
    hidden: int  # skills left out for having fewer than `min_group` students


async def effect(
    session: Session,
    cohort_ids: Sequence[int],
    since: datetime,
    titles: dict[str, str],
    min_group: int,
) -> Effect:
    """The figures over the alerts raised since `since` in these (large enough) cohorts."""
    if not cohort_ids:
        return Effect((), 0)
    alerts = await AlertRepo(session).about_students_since(list(cohort_ids), since)
    made = await AgreementRepo(session).of_alerts([a.id for a in alerts])
    by_alert: dict[int, list[AgreementRecord]] = {}
    for agreement in made:
        by_alert.setdefault(agreement.alert_id or 0, []).append(agreement)
    groups: dict[str | None, list[AlertRecord]] = {None: alerts}
    for alert in alerts:
        if alert.skill is not None:
            groups.setdefault(alert.skill, []).append(alert)
    lines, hidden = [], 0
    for skill, group in groups.items():
        if len({a.member_id for a in group}) < min_group:
            hidden += skill is not None
            continue
        lines.append(_line(titles.get(skill, skill) if skill else None, group, by_alert))
    return Effect(tuple(lines), hidden)


def _line(
    skill: str | None, alerts: list[AlertRecord], by_alert: dict[int, list[AgreementRecord]]
) -> EffectLine:
    soon = 0
    outcomes: Counter[str] = Counter()
    for alert in alerts:
        agreements = by_alert.get(alert.id, [])
        if any(a.made_at - alert.raised_at <= AGREEMENT_WITHIN for a in agreements):
            soon += 1
        outcomes.update(a.outcome for a in agreements if a.outcome in OUTCOMES)
    weeks = [
        (a.resolved_at - a.raised_at).total_seconds() / (7 * 86400)
        for a in alerts
        if a.resolved_at is not None
    ]
    counts = (outcomes["gelukt"], outcomes["deels"], outcomes["nog_niet"])
    return EffectLine(skill, len(alerts), soon, counts, median(weeks) if weeks else None)
