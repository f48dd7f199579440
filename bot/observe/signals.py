"""The field's needs (/signaal): a werkbegeleider or mentor names a need seen at work; it goes
to the mentor team, is tagged with a skill when the text names one, and joins the month's
signals in the regiegroep's report."""

from __future__ import annotations

from datetime import datetime

from bot.outbox.queue import Outgoing
from bot.outbox.team import notify_team
from bot.plans import Plan
from bot.plans.store import plan_for
from bot.texts import t
from storage.db import Session
from storage.records import MemberRecord, SignalRecord
from storage.repos import CohortRepo
from storage.repos.observations import SignalRepo

MAX_SIGNAL = 1000
SENDER_ROLES = ("werkbegeleider", "mentor")


def skill_named(plan: Plan, text: str) -> str | None:
    """The skill the text names (its title, short title or key), the longest match first."""
    folded = text.casefold()
    names: list[tuple[str, str]] = []
    for skill in plan.skills:
        for name in (skill.title, skill.short, skill.key.replace("_", " ")):
            if name and len(name) >= 4:
                names.append((name.casefold(), skill.key))
    names.sort(key=lambda item: -len(item[0]))
    return next((key for name, key in names if name in folded), None)


async def send_signal(
    session: Session, sender: MemberRecord, text: str, now: datetime
) -> SignalRecord:
    """Store the signal and queue it to the sender's mentor team (in Dutch, the team's language)."""
    cohort = await CohortRepo(session).get(sender.cohort_id)
    assert cohort is not None
    plan = await plan_for(session, cohort)
    skill = skill_named(plan, text)
    record = await SignalRepo(session).add(cohort.id, sender.id, sender.role, text, skill, now)
    title = next((s.title for s in plan.skills if s.key == skill), None)
    body = t(
        "observe.signal_to_team",
        "nl",
        name=sender.name,
        role=t(f"role.{sender.role}", "nl"),
        cohort=cohort.name,
        text=text,
        skill=t("observe.signal_skill", "nl", skill=title) if title else "",
    )
    await notify_team(session, cohort.id, f"signal:{record.id}", Outgoing(body), now, kind="alert")
    return record
