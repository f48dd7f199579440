"""The alerts' repository (`AlertRepo`) and the audit log of what mentors did with them
(`AuditRepo`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_name
from storage.models import Alert, AuditEntry, Member
from storage.records import AlertRecord, ClassGapRecord, NewAlert, OutboxDraft, RaisedAlert
from storage.repos.alerts.statements import (
    EACH,
    TABLE,
    raise_all_statement,
    raise_one_statement,
    reraise_statement,
    resolve_rules_statement,
)
from storage.repos.core import rows
from storage.repos.outbox import queue_after, queue_after_each


def _record(row: Alert) -> AlertRecord:
    return AlertRecord(
        id=row.id,
        cohort_id=row.cohort_id,
        fingerprint=row.fingerprint,
        kind=row.kind,
        member_id=row.member_id,
        skill=row.skill,
        status=row.status,
        evidence=dict(row.evidence or {}),
        raised_week=row.raised_week,
        raise_count=row.raise_count,
        raised_at=row.raised_at,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        acknowledged_week=row.acknowledged_week,
        discuss=row.discuss,
        muted_until=row.muted_until,
        resolved_at=row.resolved_at,
        resolution_reported=row.resolution_reported,
        resolution=row.resolution,
    )


class AlertRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, alert_id: int) -> AlertRecord | None:
        row = await self.session.get(Alert, alert_id)
        return None if row is None else _record(row)

    async def unresolved(self, cohort_id: int) -> list[AlertRecord]:
        """Alerts of the cohort that are not resolved (open, acknowledged or muted)."""
        rows = await self.session.scalars(
            select(Alert)
            .where(Alert.cohort_id == cohort_id, Alert.open_key.is_not(None))
            .order_by(Alert.id)
        )
        return [_record(row) for row in rows]

    async def raise_new(
        self,
        cohort_id: int,
        fingerprint: str,
        *,
        kind: str,
        member_id: int | None,
        skill: str | None,
        evidence: dict[str, Any],
        week: int,
        now: datetime,
        message: Sequence[OutboxDraft] = (),
    ) -> int | None:
        """One alert (`raise_all`): the id when this call opened it, None when it was open
        already (and nothing queued)."""
        alert = NewAlert(fingerprint, kind, member_id, skill, evidence, tuple(message))
        return (await self.raise_all(cohort_id, [alert], week, now)).get(fingerprint)

    async def raise_all(
        self, cohort_id: int, alerts: Sequence[NewAlert], week: int, now: datetime
    ) -> dict[str, int]:
        """Open the cohort's `alerts`, each unless one is open for its fingerprint already,
        and queue each one's message (`NEW_ID` for its id). Returns fingerprint → id of each
        alert this call opened (for one open already nothing is queued). PostgreSQL: all of
        them with their messages in one statement (`queue_after_each`: a check that raises
        several makes one round trip, docs/benchmarks.md §3); SQLite: one after the other,
        each with its message, in the caller's transaction."""
        if dialect_name(self.session) == "postgresql":
            params: dict[str, Any] = {"cohort_id": cohort_id, "week": week, "now": now}
            for name, _ in EACH:
                params[f"a_{name}"] = [getattr(a, name) for a in alerts]
            params["a_evidence"] = [json.dumps(a.evidence) for a in alerts]
            messages = {a.fingerprint: a.message for a in alerts}
            statement = raise_all_statement()
            return await queue_after_each(
                self.session, statement, params, "fingerprint", messages, now
            )
        opened = {}
        for a in alerts:
            values = {"cohort_id": cohort_id, "fingerprint": a.fingerprint,
                      "open_key": a.fingerprint, "kind": a.kind, "member_id": a.member_id,
                      "skill": a.skill, "status": "open", "evidence": a.evidence,
                      "raised_week": week, "raise_count": 1, "raised_at": now,
                      "discuss": False, "resolution_reported": False}  # fmt: skip
            alert_id = await queue_after(
                self.session, raise_one_statement(), values, a.message, now
            )
            if alert_id is not None:
                opened[a.fingerprint] = alert_id
        return opened

    async def reraise(
        self,
        alert_id: int,
        raise_count: int,
        evidence: dict[str, Any],
        week: int,
        now: datetime,
        message: Sequence[OutboxDraft] = (),
    ) -> bool:
        """Open it again (count + 1) and queue its `message`; False when another instance did
        so already (and nothing queued)."""
        values = {"alert_id": alert_id, "count": raise_count, "evidence": evidence, "week": week,
                  "now": now}  # fmt: skip
        statement = reraise_statement(dialect_name(self.session))
        written = await queue_after(self.session, statement, values, message, now)
        self._forget(alert_id)
        return written is not None

    async def resolve(
        self,
        alert_id: int,
        now: datetime,
        resolution: str | None = None,
        week: int | None = None,
    ) -> bool:
        """Resolved by the rules, or (`resolution`, in plan `week`) by an agreement."""
        # a Core statement on the connection (the gap check resolves on its per-answer path):
        # without the ORM's synchronisation, so a copy this session holds is expired instead
        connection = await self.session.connection()
        result = await connection.execute(
            update(TABLE)
            .where(TABLE.c.id == alert_id, TABLE.c.open_key.is_not(None))
            .values(
                status="resolved",
                open_key=None,
                resolved_at=now,
                resolution=resolution,
                resolved_week=week,
            )
        )
        self._forget(alert_id)
        return bool(result.rowcount)

    async def resolve_rules(self, alert_ids: list[int], now: datetime) -> list[int]:
        """Resolved by the rules, several in ONE guarded statement (so it may run on its own,
        `Database.autocommit`); its commit does not wait for the disk (`not_durable`: the
        next check resolves them again). Returns the ids resolved now."""
        statement = resolve_rules_statement(dialect_name(self.session))
        resolved = [
            row[0] for row in await rows(self.session, statement, {"ids": alert_ids, "now": now})
        ]
        for alert_id in resolved:
            self._forget(alert_id)
        return resolved

    def _forget(self, alert_id: int) -> None:
        """Expire this session's copy of the alert (if any) after a Core write to its row."""
        held = self.session.identity_map.get(
            self.session.sync_session.identity_key(Alert, alert_id)
        )
        if held is not None:
            self.session.expire(held)

    async def acknowledge(
        self, alert_id: int, by: str, week: int | None, now: datetime, *, discuss: bool = False
    ) -> None:
        values: dict[str, Any] = {
            "acknowledged_by": by[:200],
            "acknowledged_at": now,
            "acknowledged_week": week,
        }
        if discuss:
            values["discuss"] = True
        await self.session.execute(update(Alert).where(Alert.id == alert_id).values(**values))
        await self.session.execute(
            update(Alert)
            .where(Alert.id == alert_id, Alert.status == "open")
            .values(status="acknowledged")
        )

    async def mute(self, alert_id: int, by: str, until: datetime, now: datetime) -> None:
        await self.session.execute(
            update(Alert)
            .where(Alert.id == alert_id, Alert.open_key.is_not(None))
            .values(status="muted", muted_until=until)
        )

    async def about_students_since(
        self, cohort_ids: list[int], since: datetime
    ) -> list[AlertRecord]:
        """Alerts about one student raised since `since`, resolved ones too (the report)."""
        rows = await self.session.scalars(
            select(Alert)
            .where(
                Alert.cohort_id.in_(cohort_ids),
                Alert.member_id.is_not(None),
                Alert.raised_at >= since,
            )
            .order_by(Alert.id)
        )
        return [_record(row) for row in rows]

    async def set_discuss(self, alert_id: int, discuss: bool) -> None:
        """On or off the class meeting's agenda (Bespreken, Besproken)."""
        await self.session.execute(
            update(Alert).where(Alert.id == alert_id).values(discuss=discuss)
        )

    async def of_member(self, member_id: int) -> list[AlertRecord]:
        """Every alert about one student, resolved ones too (the student's timeline)."""
        rows = await self.session.scalars(
            select(Alert).where(Alert.member_id == member_id).order_by(Alert.id)
        )
        return [_record(row) for row in rows]

    async def to_discuss(self, cohort_id: int) -> list[AlertRecord]:
        """Alerts marked Bespreken that are still open: the agenda of the class meeting."""
        rows = await self.session.scalars(
            select(Alert)
            .where(
                Alert.cohort_id == cohort_id,
                Alert.discuss.is_(True),
                Alert.open_key.is_not(None),
            )
            .order_by(Alert.id)
        )
        return [_record(row) for row in rows]

    async def class_gaps(self, cohort_ids: list[int], since: datetime) -> list[ClassGapRecord]:
        """Class gaps with a skill in these cohorts that are open, or were raised or resolved
        since `since`."""
        if not cohort_ids:
            return []
        rows = await self.session.execute(
            select(Alert.cohort_id, Alert.skill, Alert.open_key, Alert.evidence).where(
                Alert.cohort_id.in_(cohort_ids),
                Alert.kind == "class_gap",
                Alert.skill.is_not(None),
                or_(
                    Alert.open_key.is_not(None),
                    Alert.raised_at >= since,
                    Alert.resolved_at >= since,
                ),
            )
        )
        return [
            ClassGapRecord(
                cohort_id,
                skill,
                open_key is not None,
                tuple(w for w in (evidence or {}).get("weeks") or [] if isinstance(w, int)),
            )
            for cohort_id, skill, open_key, evidence in rows
        ]

    async def raised(self) -> list[RaisedAlert]:
        """Every alert, by week, kind, student name and skill."""
        rows = await self.session.execute(
            select(Alert.kind, Member.name, Alert.skill, Alert.raised_week, Alert.raise_count,
                   Alert.status)
            .outerjoin(Member, Member.id == Alert.member_id)
            .order_by(Alert.raised_week, Alert.kind, Member.name, Alert.skill)
        )  # fmt: skip
        return [RaisedAlert(*row) for row in rows]

    async def resolved_unreported(self, cohort_id: int) -> list[AlertRecord]:
        rows = await self.session.scalars(
            select(Alert)
            .where(
                Alert.cohort_id == cohort_id,
                Alert.status == "resolved",
                Alert.resolution_reported.is_(False),
            )
            .order_by(Alert.id)
        )
        return [_record(row) for row in rows]

    async def mark_reported(self, alert_ids: list[int]) -> None:
        if alert_ids:
            await self.session.execute(
                update(Alert).where(Alert.id.in_(alert_ids)).values(resolution_reported=True)
            )


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        actor_user_id: int | None,
        cohort_id: int | None,
        action: str,
        target: str | None,
        now: datetime,
    ) -> None:
        self.session.add(
            AuditEntry(
                at=now,
                actor_user_id=actor_user_id,
                cohort_id=cohort_id,
                action=action[:32],
                target=None if target is None else target[:200],
            )
        )
        await self.session.flush()
