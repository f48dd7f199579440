"""The follow-up of a shared agreement in the werkbegeleider's observation: in the
agreement's follow-up week, after the student's skills, one extra question ("De afspraak met
Anna: … — gelukt / deels / nog niet"). The answer is stored on the agreement beside the
student's own; the optional line after it is the observation's usual line, kept with it.

Only agreements shared with this werkbegeleider are asked: the copy was shared and they were
linked to the student when the agreement was sent (a werkbegeleider who came later never got
the copy and is not asked about it)."""

from __future__ import annotations

from datetime import datetime

from bot.outbox.queue import Outgoing
from bot.texts import t
from storage.db import Session
from storage.records import AgreementRecord, MemberRecord, RoundRecord
from storage.repos.loop import AgreementRepo
from storage.repos.observations import SupervisionRepo

PREFIX = "afspraak-"  # the question's key after the student: obs:<student>:afspraak-<id>
OUTCOMES = ("gelukt", "deels", "nog_niet")  # the buttons 0..2, the student's words


def key_of(agreement_id: int) -> str:
    return f"{PREFIX}{agreement_id}"


def agreement_id(skill: str) -> int | None:
    """The agreement a question key is about, None for a skill or the line."""
    rest = skill[len(PREFIX) :] if skill.startswith(PREFIX) else ""
    return int(rest) if rest.isdigit() else None


async def shared(
    session: Session, round_: RoundRecord, wb: MemberRecord, student_id: int
) -> list[AgreementRecord]:
    """This round's agreement questions for this werkbegeleider about this student."""
    links = await SupervisionRepo(session).of_werkbegeleider(wb.id)
    link = next((lk for lk in links if lk.student_id == student_id), None)
    if link is None:
        return []
    due = await AgreementRepo(session).shared_to_follow_up(student_id, round_.week, round_.id)
    return [a for a in due if link.linked_at <= a.made_at]


async def next_question(
    session: Session, round_: RoundRecord, wb: MemberRecord, student_id: int
) -> AgreementRecord | None:
    """The first shared agreement the werkbegeleider has not answered in this round."""
    for agreement in await shared(session, round_, wb, student_id):
        if agreement.workplace_round_id != round_.id:
            return agreement
    return None


def question(agreement: AgreementRecord, student: str, token: str, tap: str, lang: str) -> Outgoing:
    first = student.split()[0] if student.split() else student  # "de afspraak met [voornaam]"
    text = t("observe.agreement.ask", lang, student=first, text=agreement.text or "")
    buttons = [
        (t(f"observe.agreement.{o}", lang), f"{tap}{token}:{i}") for i, o in enumerate(OUTCOMES)
    ]
    return Outgoing(text, [buttons])


async def save(
    session: Session,
    round_: RoundRecord,
    wb: MemberRecord,
    student_id: int,
    skill: str,
    raw: str,
    now: datetime,
) -> tuple[bool, str] | None:
    """Store the tapped outcome: (was it answered before in this round, the outcome);
    None when the tap is not a valid answer to a question shared with this werkbegeleider."""
    wanted = agreement_id(skill)
    if not raw.isdigit() or int(raw) >= len(OUTCOMES):
        return None
    found = next((a for a in await shared(session, round_, wb, student_id) if a.id == wanted), None)
    if found is None:
        return None
    outcome = OUTCOMES[int(raw)]
    await AgreementRepo(session).record_workplace_outcome(found.id, outcome, round_.id, wb.id, now)
    return found.workplace_round_id == round_.id, outcome


async def keep_line(
    session: Session, round_: RoundRecord, wb: MemberRecord, student_id: int, text: str | None
) -> None:
    """The observation's line after an agreement question is the workplace's words on it."""
    for agreement in await shared(session, round_, wb, student_id):
        if agreement.workplace_round_id == round_.id:
            await AgreementRepo(session).change(agreement.id, workplace_note=text)
