"""Findings become alerts: stored once per open gap, told to the mentor team, raised again
when a gap stays after it was seen, resolved when it is gone.

Everything is decided from stored answers (`bot.gaps.rules.evaluate`) and stored alerts
(`bot.gaps.lifecycle.decide`), so any instance can run `evaluate_cohort` at any time: the
unique (cohort, open_key) constraint and the outbox dedupe keys make a repeat harmless."""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.gaps.alert_text import PREFIX, render_alert
from bot.gaps.cache import GapCache
from bot.gaps.check import GapCheck, gap_check
from bot.gaps.cohort_data import local_time
from bot.gaps.lifecycle import Action, AlertState, Raise, Resolve
from bot.gaps.lifecycle import decide as decide_actions
from bot.gaps.rules import Finding
from bot.outbox.queue import drafts_of
from bot.outbox.team import Team, team_language, team_of, to_team
from bot.texts import t
from storage.db import Session
from storage.records import MemberRecord, NewAlert
from storage.repos import CohortRepo
from storage.repos.alerts import AlertRepo, AuditRepo
from storage.repos.gap_query import OpenAlert
from storage.repos.outbox import NEW_ID
from storage.repos.rounds import RoundRepo

log = logging.getLogger(__name__)

ACTIONS = ("ack", "talk", "mute")  # "deal" (Afspraak) is bot.loop's, see DEAL_PATTERN
DEAL_PATTERN = r"^al:\d{1,12}:deal$"
BUTTON_PATTERN = r"^al:\d{1,12}:(ack|talk|mute)$"
MUTE_FOR = timedelta(days=14)


@dataclass
class Decision:
    """What a check decided for one cohort: the lifecycle's actions, with what applying them
    needs (read by `decide`, applied by `apply` in a transaction of its own)."""

    cohort_id: int
    check: GapCheck
    actions: list[Action]
    stored: dict[str, OpenAlert]

    @property
    def pending_outcomes(self) -> bool:
        """An agreement's outcome waits to be applied (bot.loop.followup)."""
        return self.check.state.pending_outcomes

    @property
    def quiet(self) -> bool:
        """Nothing to write: most checks after an answer."""
        return not self.actions and not self.pending_outcomes


async def evaluate_cohort(
    session: Session, cohort_id: int, now: datetime, cache: GapCache | None = None
) -> list[int]:
    """Recompute the cohort's gaps from stored answers and apply the alert lifecycle.

    New gaps are stored and queued to the team; gaps that stayed 3 rounds after "Gezien" (or
    outlived "Stil 2 weken") are queued again; gaps no longer low are marked resolved for the
    next digest. Returns the ids of the alerts whose message was queued now. `cache` is the
    running bot's (Services.gap_cache); without one everything is read afresh."""
    decision = await decide(session, cohort_id, now, cache)
    return [] if decision is None else await apply(session, decision, now)


async def decide(
    session: Session, cohort_id: int, now: datetime, cache: GapCache | None = None
) -> Decision | None:
    """The reading half of `evaluate_cohort`: the check and the lifecycle's actions, no
    writes (so it needs no transaction: `Database.reading`). None: no such cohort, no rounds."""
    check = await gap_check(session, cohort_id, cache)
    if check is None or not check.data.rounds:
        return None
    data = check.data
    active = {m.id for m in data.students.values() if m.is_active}
    # a student who left (/stop, unreachable) gets no new alerts; the class's figures stay
    findings = [f for f in check.findings() if f.student_id is None or f.student_id in active]
    # read with the check's one statement: they change through any instance's lifecycle
    # (a mentor's tap on another instance too), so they are not kept between checks
    stored = {a.fingerprint: a for a in check.alerts}
    findings = _decided(check, findings, stored)
    weeks = [r.week for r in data.rounds]  # by week: an alert's round index is a bisection
    states = [_state(a, weeks, now) for a in stored.values()]
    ok = check.ok_streaks(list(stored))
    actions = list(decide_actions(states, findings, len(data.rounds) - 1, ok))
    return Decision(cohort_id, check, actions, stored)


async def apply(session: Session, decision: Decision, now: datetime) -> list[int]:
    """The writing half of `evaluate_cohort`: store, resolve and queue what `decide` found.
    Every write is guarded, so a decision another instance applied first changes nothing, and
    whole on its own (an alert with its message), so it needs no transaction around the others
    (`Database.autocommit`). Returns the ids of the alerts whose message was queued."""
    stored, repo = decision.stored, AlertRepo(session)
    # read with the check's statement (each statement counts on the per-answer path,
    # docs/benchmarks.md §3): the alerts resolved after a learning agreement (bot.loop), raised
    # again only on later evidence, and the team's chats and language
    agreed = decision.check.state.agreed
    team = team_of(decision.check.state.team)
    raised: list[int] = []
    if any(isinstance(a, Resolve) for a in decision.actions):  # first, in one statement
        await resolve_all(session, decision, now)
    opening: list[NewAlert] = []  # opened together after the loop: one statement (PostgreSQL)
    for action in decision.actions:
        if isinstance(action, Resolve):
            continue
        finding = action.finding
        if isinstance(action, Raise):
            if max(finding.weeks, default=0) > agreed.get(finding.fingerprint, -1):
                opening.append(_new_alert(decision, finding, team))
            continue
        alert_id = await _raise_again(repo, decision, finding, stored[finding.fingerprint], team,
                                      now)  # fmt: skip
        if alert_id is not None:
            raised.append(alert_id)
    if opening:
        week = decision.check.data.rounds[-1].week
        opened = await repo.raise_all(decision.cohort_id, opening, week, now)
        for alert_id in opened.values():
            log.info("alert raised cohort=%s alert=%s count=1", decision.cohort_id, alert_id)
            raised.append(alert_id)
    return raised


def _new_alert(decision: Decision, finding: Finding, team: Team) -> NewAlert:
    """`finding` as a new alert, with its message rendered before the alert is written: a
    mark stands for its id (`NEW_ID`), so the alerts and their messages are one statement on
    PostgreSQL (`AlertRepo.raise_all`)."""
    evidence = evidence_of(finding)
    message = render_alert(NEW_ID, finding.kind, finding.student_id, finding.skill, evidence,
                           decision.check.data, lang=team.language)  # fmt: skip
    key = f"alert:{NEW_ID}:1"
    drafts = drafts_of(to_team(decision.cohort_id, key, message, team, kind="alert"))
    return NewAlert(finding.fingerprint, finding.kind, finding.student_id, finding.skill,
                    evidence, tuple(drafts))  # fmt: skip


async def _raise_again(
    repo: AlertRepo,
    decision: Decision,
    finding: Finding,
    again: OpenAlert,
    team: Team,
    now: datetime,
) -> int | None:
    """Raise `finding` again (its stored alert stayed after it was seen) with its message to
    the team. The alert's id, or None when another instance did so a moment ago."""
    data, evidence = decision.check.data, evidence_of(finding)
    count = again.raise_count + 1
    message = render_alert(again.id, finding.kind, finding.student_id, finding.skill, evidence,
                           data, again=True, lang=team.language)  # fmt: skip
    drafts = drafts_of(to_team(decision.cohort_id, f"alert:{again.id}:{count}", message, team,
                               kind="alert"))  # fmt: skip
    week = data.rounds[-1].week
    if not await repo.reraise(again.id, again.raise_count, evidence, week, now, drafts):
        return None
    log.info("alert raised cohort=%s alert=%s count=%s", decision.cohort_id, again.id, count)
    return again.id


async def resolve_all(session: Session, decision: Decision, now: datetime) -> None:
    """The decision's resolves in one guarded statement: another instance's resolve of the
    same alerts first changes nothing."""
    ids = [decision.stored[a.fingerprint].id for a in decision.actions if isinstance(a, Resolve)]
    for alert_id in await AlertRepo(session).resolve_rules(ids, now):
        log.info("alert resolved cohort=%s alert=%s", decision.cohort_id, alert_id)


def _decided(
    check: GapCheck, findings: list[Finding], stored: dict[str, OpenAlert]
) -> list[Finding]:
    """`findings` less the student gaps whose class gap may still show and fold them
    (`class_may_fold`): they wait, so the team hears the same in any order of answering. An
    open alert's finding needs no such look: the lifecycle does nothing with it but resolve,
    which the finding does not decide."""
    waits: dict[str, bool] = {}
    out = []
    for f in findings:
        a = stored.get(f.fingerprint)
        if f.kind == "student_gap" and f.skill and (a is None or a.status != "open"):
            if f.skill not in waits:
                waits[f.skill] = check.class_may_fold(f.skill)
            if waits[f.skill]:
                continue
        out.append(f)
    return out


def _state(alert: OpenAlert, weeks: list[int], now: datetime) -> AlertState:
    """`weeks`: the counted rounds' weeks in order (`CohortData.round_index` as a bisection:
    it runs for every stored alert on every check)."""
    round_index = len(weeks) - 1
    status = alert.status if alert.status in ("open", "acknowledged", "muted") else "open"
    muted_until = None
    if status == "muted":
        # "Stil 2 weken" is wall time: silent until the date, then raised again if still there
        still = alert.muted_until is not None and now < alert.muted_until
        muted_until = round_index + 1 if still else round_index
    acked = bisect_right(weeks, alert.acknowledged_week) - 1 if alert.acknowledged_week else None
    return AlertState(
        alert.fingerprint,
        status,  # type: ignore[arg-type]
        bisect_right(weeks, alert.raised_week) - 1,
        acknowledged_at_round_index=acked,
        muted_until_round_index=muted_until,
    )


def evidence_of(finding: Finding) -> dict[str, Any]:
    """What is stored with the alert: the finding's weeks and facts, as JSON."""
    return {
        "fingerprint": finding.fingerprint,
        "weeks": list(finding.weeks),
        # each fact's fields are plain values: a copy of its fields, not `dataclasses.asdict`'s
        # deep copy (0.4 ms of a raising check, docs/benchmarks.md §3)
        "items": [dict(vars(e)) for e in finding.evidence],
    }


# ----------------------------------------------------------------------------- buttons


@dataclass(frozen=True)
class Pressed:
    """The outcome of a tap on an alert button."""

    answer: str  # the callback answer
    line: str | None = None  # added to the alert message when the tap changed something


def parse_button(data: str) -> tuple[int, str] | None:
    match = re.fullmatch(BUTTON_PATTERN, data)
    if match is None:
        return None
    alert_id, action = data[len(PREFIX) :].split(":")
    return int(alert_id), action


async def press(
    session: Session,
    data: str,
    user_id: int,
    mentors: dict[int, MemberRecord],
    lang: str,
    now: datetime,
) -> Pressed:
    """Gezien / Bespreken / Stil 2 weken by a mentor (`mentors`: cohort id → own membership).

    Forged data, another cohort's alert and resolved alerts change nothing."""
    parsed = parse_button(data)
    repo = AlertRepo(session)
    alert = await repo.get(parsed[0]) if parsed else None
    if parsed is None or alert is None or alert.cohort_id not in mentors:
        return Pressed(t("alert.not_yours", lang))
    if not alert.is_open:
        return Pressed(t("alert.gone", lang))
    action = parsed[1]
    mentor = mentors[alert.cohort_id]
    cohort = await CohortRepo(session).get(alert.cohort_id)
    assert cohort is not None
    latest = await RoundRepo(session).latest(alert.cohort_id, "reflection", status=None)
    week = latest.week if latest is not None else alert.raised_week
    if action == "mute":
        until = now + MUTE_FOR
        await repo.mute(alert.id, mentor.name, until, now)
    else:
        await repo.acknowledge(alert.id, mentor.name, week, now, discuss=action == "talk")
    await AuditRepo(session).add(
        user_id, alert.cohort_id, f"alert_{action}", f"alert:{alert.id}", now
    )
    moment = local_time(cohort, now)
    line = t(
        f"alert.done.{action}",
        await team_language(session, alert.cohort_id),  # the line joins the team's message
        name=mentor.name,
        time=moment.strftime("%H:%M"),
        date=local_time(cohort, now + MUTE_FOR).strftime("%d-%m"),
    )
    return Pressed(t(f"alert.answered.{action}", lang), line)
