"""What the answers about an agreement do. There are two views: the student's (in
the reflection) and, for a shared agreement, the werkbegeleider's (in the observation).

- "Opgelost na afspraak": the student says "gelukt", the skill is no longer low in the
  student's latest rating, and the workplace does not say "nog niet" (when the two views
  disagree like that, the team talks about it first). The workplace's "gelukt" alone never
  resolves: the reflection stays the student's.
- "Nog niet" from either side puts the agreement on the next class meeting's agenda.
- "Deels" is reported and changes nothing. A later answer never reopens a resolved alert.

Decided from stored answers only, after each completed reflection and each closed round
(bot.runtime.services), so a restart or another instance applies it just the same.

An alert resolved after an agreement is told to the mentor team at once, with a
**Compliment** button (bot.loop.compliments): the moment the student made it is the moment
for a compliment. (A gap that closes by itself, without an agreement, is reported in the
Monday digest, whose progress list carries the same button.)"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.gaps import alerts
from bot.gaps.alert_text import skill_label
from bot.gaps.cache import GapCache
from bot.gaps.cohort_data import CohortData, load_cohort_data
from bot.loop import compliments
from bot.outbox.queue import Outgoing
from bot.outbox.team import notify_team, read_team
from bot.plans.model import LOW_RATING
from bot.texts import t
from storage.db import Database, Session
from storage.records import AgreementRecord, AlertRecord
from storage.repos.alerts import AFTER_AGREEMENT, AlertRepo
from storage.repos.loop import AgreementRepo
from storage.repos.rounds import RoundRepo

log = logging.getLogger(__name__)
NOT_YET = "nog_niet"


async def check_alerts(
    db: Database, cohort_id: int, now: datetime, cache: GapCache | None = None
) -> list[int]:
    """The alert check after a completed reflection or a closed round: the gap rules
    (`bot.gaps.alerts`), then the agreements' outcomes, which may resolve what the rules
    left open. Decided from one read outside any transaction (`Database.reading`); a
    transaction only for an agreement's outcome: the rules' writes are each guarded (a
    decision applied first by another instance changes nothing) and whole on their own, and
    most checks have none.
    Returns the ids of the alerts whose message was queued."""
    async with db.reading() as session:
        decision = await alerts.decide(session, cohort_id, now, cache)
        if decision is None or decision.quiet:
            return []
        if not decision.pending_outcomes and db.reads_autocommit:  # PostgreSQL: on the read's
            return await alerts.apply(session, decision, now)  # connection, no second checkout
    if not decision.pending_outcomes:  # each write whole on its own: no transaction
        async with db.autocommit() as session:
            return await alerts.apply(session, decision, now)
    async with db.transaction() as session:
        raised = await alerts.apply(session, decision, now)
        await apply_outcomes(session, cohort_id, now)
    return raised


async def apply_outcomes(session: Session, cohort_id: int, now: datetime) -> list[int]:
    """Apply the outcomes not applied yet; the ids of the alerts resolved by them."""
    repo = AgreementRepo(session)
    pending = await repo.unapplied(cohort_id)
    data = await load_cohort_data(session, cohort_id) if pending else None
    if data is None:
        return []
    latest = _latest_ratings(data)
    resolved: list[int] = []
    for agreement in pending:
        alert = await _resolve_alert(session, agreement, latest, now)
        if alert is not None:
            resolved.append(alert.id)
            await _tell_team(session, data, agreement, alert, now)
        again = NOT_YET in (agreement.outcome, agreement.workplace_outcome)
        await repo.change(
            agreement.id,
            outcome_applied=True,
            on_agenda=again,
            discussed_at=None if again else agreement.discussed_at,
        )
    return resolved


def _may_resolve(agreement: AgreementRecord) -> bool:
    return agreement.outcome == "gelukt" and agreement.workplace_outcome != NOT_YET


async def _resolve_alert(
    session: Session,
    agreement: AgreementRecord,
    latest: dict[tuple[int, str], int],
    now: datetime,
) -> AlertRecord | None:
    """The alert, when this agreement's outcome resolved it now."""
    if agreement.alert_id is None or not _may_resolve(agreement):
        return None
    alerts = AlertRepo(session)
    alert = await alerts.get(agreement.alert_id)
    if alert is None or not alert.is_open:
        return None
    if alert.skill is not None:
        rating = latest.get((agreement.member_id, alert.skill))
        if rating is None or rating <= LOW_RATING:
            return None  # the student says it worked, their own rating does not (yet)
    answered_in = await RoundRepo(session).get(agreement.outcome_round_id or 0)
    week = answered_in.week if answered_in else agreement.follow_up_week
    if not await alerts.resolve(alert.id, now, AFTER_AGREEMENT, week):
        return None
    log.info("alert resolved after agreement alert=%s agreement=%s", alert.id, agreement.id)
    return alert


async def _tell_team(
    session: Session, data: CohortData, agreement: AgreementRecord, alert: AlertRecord,
    now: datetime,
) -> None:  # fmt: skip
    """The team's message that the alert is resolved, with the Compliment button."""
    team = await read_team(session, data.cohort.id)
    lang = team.language
    name = data.name(agreement.member_id)
    what = skill_label(data, alert.skill, lang) or t(f"alert.kind.{alert.kind}", lang)
    text = t("loop.resolved.to_team", lang, name=name, what=what, text=agreement.text or "")
    label = f"{t('loop.digest.compliment_button', lang)}: {name}"
    button = compliments.button(agreement.member_id, alert.id)
    message = Outgoing(text, [[(label, button)]])
    key = f"resolved:{alert.id}"
    await notify_team(session, data.cohort.id, key, message, now, kind="loop", team=team)


def _latest_ratings(data: CohortData) -> dict[tuple[int, str], int]:
    """(student, skill) → the student's latest self-rating of that skill."""
    latest: dict[tuple[int, str], tuple[int, int]] = {}
    for a in data.answers:
        if a.kind == "rating" and a.rating is not None and a.skill and not a.skipped:
            key = (a.member_id, a.skill)
            if key not in latest or latest[key][0] <= a.week:
                latest[key] = (a.week, a.rating)
    return {key: rating for key, (_week, rating) in latest.items()}
