"""Agreements (leerafspraken), meeting notes and compliments: the rows behind bot.loop.

Each kind can wait for a mentor's one-line reply: it then holds the chat and message id of the
bot's question, and `pending_reply` finds it again from the reply."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agreement, Compliment, LoopNote, StudentQuestion
from storage.records import AgreementRecord, ComplimentRecord, NoteRecord, OpenQuestion


def _agreement(row: Agreement) -> AgreementRecord:
    return AgreementRecord(
        **{name: getattr(row, name) for name in AgreementRecord.__dataclass_fields__}
    )


def _note(row: LoopNote) -> NoteRecord:
    return NoteRecord(**{name: getattr(row, name) for name in NoteRecord.__dataclass_fields__})


def _compliment(row: Compliment) -> ComplimentRecord:
    fields = ComplimentRecord.__dataclass_fields__
    return ComplimentRecord(**{name: getattr(row, name) for name in fields})


def to_follow_up(member_id: Any, week: Any, round_id: Any) -> ColumnElement[bool]:
    """The agreements a reflection asks about (`AgreementRepo.to_follow_up`); values or
    columns, so a tap's first read can tell in the same statement whether there are any."""
    return and_(
        Agreement.member_id == member_id,
        Agreement.status == "active",
        Agreement.follow_up_week <= week,
        (Agreement.outcome_round_id.is_(None)) | (Agreement.outcome_round_id == round_id),
    )


class AgreementRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, **values: Any) -> AgreementRecord:
        row = Agreement(**values)
        self.session.add(row)
        await self.session.flush()
        return _agreement(row)

    async def get(self, agreement_id: int) -> AgreementRecord | None:
        row = await self.session.get(Agreement, agreement_id)
        return None if row is None else _agreement(row)

    async def change(self, agreement_id: int, **values: Any) -> None:
        await self.session.execute(
            update(Agreement).where(Agreement.id == agreement_id).values(**values)
        )

    async def activate(self, agreement_id: int, follow_up_week: int, now: datetime) -> bool:
        """Draft → active; False when it was not a draft with a text (a double tap)."""
        result = await self.session.execute(
            update(Agreement)
            .where(
                Agreement.id == agreement_id,
                Agreement.status == "draft",
                Agreement.text.is_not(None),
            )
            .values(status="active", follow_up_week=follow_up_week, made_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def pending_reply(self, user_id: int, chat_id: int, message_id: int) -> int | None:
        return await self.session.scalar(
            select(Agreement.id).where(
                Agreement.made_by_user_id == user_id,
                Agreement.prompt_chat_id == chat_id,
                Agreement.prompt_message_id == message_id,
                Agreement.status == "draft",
                Agreement.text.is_(None),
            )
        )

    async def of_cohort(
        self, cohort_id: int, statuses: tuple[str, ...] = ("active",)
    ) -> list[AgreementRecord]:
        rows = await self.session.scalars(
            select(Agreement)
            .where(Agreement.cohort_id == cohort_id, Agreement.status.in_(statuses))
            .order_by(Agreement.id)
        )
        return [_agreement(row) for row in rows]

    async def of_alerts(self, alert_ids: list[int]) -> list[AgreementRecord]:
        """Sent agreements made from these alerts."""
        rows = await self.session.scalars(
            select(Agreement)
            .where(Agreement.alert_id.in_(alert_ids), Agreement.status == "active")
            .order_by(Agreement.id)
        )
        return [_agreement(row) for row in rows]

    async def of_member(self, member_id: int) -> list[AgreementRecord]:
        rows = await self.session.scalars(
            select(Agreement)
            .where(Agreement.member_id == member_id, Agreement.status == "active")
            .order_by(Agreement.id)
        )
        return [_agreement(row) for row in rows]

    async def to_follow_up(self, member_id: int, week: int, round_id: int) -> list[AgreementRecord]:
        """Active agreements the reflection `round_id` of `week` asks about: due by then and
        not answered in an earlier round (answered in this one stays, so it can change)."""
        rows = await self.session.scalars(
            select(Agreement).where(to_follow_up(member_id, week, round_id)).order_by(Agreement.id)
        )
        return [_agreement(row) for row in rows]

    async def record_outcome(
        self, agreement_id: int, outcome: str, round_id: int, now: datetime
    ) -> None:
        """The student's answer; a changed answer is applied to the alert again."""
        await self.change(
            agreement_id,
            outcome=outcome,
            outcome_round_id=round_id,
            outcome_at=now,
            outcome_applied=False,
        )

    async def record_note(self, agreement_id: int, note: str | None) -> None:
        await self.change(agreement_id, outcome_note=note)

    async def shared_to_follow_up(
        self, member_id: int, week: int, round_id: int
    ) -> list[AgreementRecord]:
        """Shared agreements the werkbegeleider's observation `round_id` of `week` asks about:
        due by then and not answered by the workplace in an earlier round."""
        rows = await self.session.scalars(
            select(Agreement)
            .where(
                Agreement.member_id == member_id,
                Agreement.status == "active",
                Agreement.share_workplace.is_(True),
                Agreement.follow_up_week <= week,
                (Agreement.workplace_round_id.is_(None))
                | (Agreement.workplace_round_id == round_id),
            )
            .order_by(Agreement.id)
        )
        return [_agreement(row) for row in rows]

    async def record_workplace_outcome(
        self, agreement_id: int, outcome: str, round_id: int, by: int, now: datetime
    ) -> None:
        """The werkbegeleider's answer; like the student's, a change is applied again."""
        await self.change(
            agreement_id,
            workplace_outcome=outcome,
            workplace_round_id=round_id,
            workplace_outcome_at=now,
            workplace_by=by,
            outcome_applied=False,
        )

    async def answered_by(self, werkbegeleider_id: int) -> list[AgreementRecord]:
        """The agreements this werkbegeleider answered about (their /mijngegevens)."""
        rows = await self.session.scalars(
            select(Agreement)
            .where(Agreement.workplace_by == werkbegeleider_id)
            .order_by(Agreement.id)
        )
        return [_agreement(row) for row in rows]

    async def unapplied(self, cohort_id: int) -> list[AgreementRecord]:
        rows = await self.session.scalars(
            select(Agreement).where(
                Agreement.cohort_id == cohort_id,
                Agreement.status == "active",
                Agreement.outcome.is_not(None) | Agreement.workplace_outcome.is_not(None),
                Agreement.outcome_applied.is_(False),
            )
        )
        return [_agreement(row) for row in rows]


class NoteRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, **values: Any) -> NoteRecord:
        row = LoopNote(**values)
        self.session.add(row)
        await self.session.flush()
        return _note(row)

    async def get(self, note_id: int) -> NoteRecord | None:
        row = await self.session.get(LoopNote, note_id)
        return None if row is None else _note(row)

    async def set_text(self, note_id: int, text: str, now: datetime) -> bool:
        result = await self.session.execute(
            update(LoopNote)
            .where(LoopNote.id == note_id, LoopNote.text.is_(None))
            .values(text=text, created_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def pending_reply(self, user_id: int, chat_id: int, message_id: int) -> int | None:
        return await self.session.scalar(
            select(LoopNote.id).where(
                LoopNote.written_by_user_id == user_id,
                LoopNote.prompt_chat_id == chat_id,
                LoopNote.prompt_message_id == message_id,
                LoopNote.text.is_(None),
            )
        )

    async def subjects_noted(self, cohort_id: int) -> set[str]:
        rows = await self.session.scalars(
            select(LoopNote.subject).where(
                LoopNote.cohort_id == cohort_id, LoopNote.text.is_not(None)
            )
        )
        return set(rows)

    async def of_member(self, member_id: int) -> list[NoteRecord]:
        rows = await self.session.scalars(
            select(LoopNote)
            .where(LoopNote.member_id == member_id, LoopNote.text.is_not(None))
            .order_by(LoopNote.id)
        )
        return [_note(row) for row in rows]


class ComplimentRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, **values: Any) -> ComplimentRecord:
        row = Compliment(**values)
        self.session.add(row)
        await self.session.flush()
        return _compliment(row)

    async def get(self, compliment_id: int) -> ComplimentRecord | None:
        row = await self.session.get(Compliment, compliment_id)
        return None if row is None else _compliment(row)

    async def send(self, compliment_id: int, text: str, now: datetime) -> bool:
        result = await self.session.execute(
            update(Compliment)
            .where(Compliment.id == compliment_id, Compliment.sent_at.is_(None))
            .values(text=text, sent_at=now, created_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def pending_reply(self, user_id: int, chat_id: int, message_id: int) -> int | None:
        return await self.session.scalar(
            select(Compliment.id).where(
                Compliment.written_by_user_id == user_id,
                Compliment.prompt_chat_id == chat_id,
                Compliment.prompt_message_id == message_id,
                Compliment.sent_at.is_(None),
            )
        )

    async def of_member(self, member_id: int) -> list[ComplimentRecord]:
        rows = await self.session.scalars(
            select(Compliment)
            .where(Compliment.member_id == member_id, Compliment.sent_at.is_not(None))
            .order_by(Compliment.id)
        )
        return [_compliment(row) for row in rows]


async def set_prompt(
    session: AsyncSession, kind: str, row_id: int, chat_id: int, message_id: int
) -> None:
    """Remember the bot's question whose reply fills the row in (agreement, note, compliment)."""
    models: dict[str, type[Agreement] | type[LoopNote] | type[Compliment]] = {
        "agreement": Agreement,
        "note": LoopNote,
        "compliment": Compliment,
    }
    model = models[kind]
    await session.execute(
        update(model)
        .where(model.id == row_id)
        .values(prompt_chat_id=chat_id, prompt_message_id=message_id)
    )


async def open_questions(session: AsyncSession, cohort_id: int) -> list[OpenQuestion]:
    """Students' questions that nobody answered yet (for the meeting's agenda)."""
    rows = await session.execute(
        select(StudentQuestion.id, StudentQuestion.member_id, StudentQuestion.text,
               StudentQuestion.asked_at)
        .where(StudentQuestion.cohort_id == cohort_id, StudentQuestion.answer_text.is_(None))
        .order_by(StudentQuestion.id)
    )  # fmt: skip
    return [OpenQuestion(*row) for row in rows]
