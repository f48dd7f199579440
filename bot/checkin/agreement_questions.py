"""The follow-up of a learning agreement inside the student's reflection: in the follow-up
week (and after it, until answered) one extra question "Afspraak: … — gelukt / deels / nog
niet" and an optional line. bot.loop makes the agreements and acts on the outcome; this
module only asks and stores, so the check-in needs nothing above it."""

from __future__ import annotations

from datetime import datetime

from bot.plans import ResolvedQuestion
from bot.plans.model import ResolvedOption
from bot.texts import t
from storage.db import Session
from storage.repos.loop import AgreementRepo

OUTCOME_KEY = "__afspraak:"  # + agreement id; internal keys (__…) stay out of rules and CSV
LINE_KEY = "__afspraak_regel:"
OUTCOMES = ("gelukt", "deels", "nog_niet")
LINE_LIMIT = 500


async def follow_up_questions(
    session: Session, member_id: int, week: int, round_id: int, lang: str
) -> list[ResolvedQuestion]:
    """The extra questions of this student's reflection `round_id` (plan week `week`)."""
    questions: list[ResolvedQuestion] = []
    for agreement in await AgreementRepo(session).to_follow_up(member_id, week, round_id):
        options = [
            ResolvedOption(label=t(f"checkin.agreement.{o}", lang), value=o) for o in OUTCOMES
        ]
        prompt = t("checkin.agreement.question", lang, text=agreement.text or "")
        questions.append(
            ResolvedQuestion(
                key=f"{OUTCOME_KEY}{agreement.id}", kind="choice", prompt=prompt, options=options
            )
        )
        questions.append(
            ResolvedQuestion(
                key=f"{LINE_KEY}{agreement.id}",
                kind="text",
                prompt=t("checkin.agreement.line", lang),
                optional=True,
                max_length=LINE_LIMIT,
            )
        )
    return questions


def changes_week(question_key: str) -> bool:
    """Whether storing this answer may change the student's week (its agreement questions):
    then the week is read again before the next question is chosen."""
    return question_key.startswith((OUTCOME_KEY, LINE_KEY))


async def record(
    session: Session, question_key: str, values: dict[str, object], round_id: int,
    now: datetime,
) -> None:  # fmt: skip
    """Store an answer to a follow-up question on its agreement (other keys: nothing)."""
    repo = AgreementRepo(session)
    if question_key.startswith(OUTCOME_KEY) and values.get("choice") in OUTCOMES:
        agreement_id = int(question_key[len(OUTCOME_KEY) :])
        await repo.record_outcome(agreement_id, str(values["choice"]), round_id, now)
    elif question_key.startswith(LINE_KEY):
        text = values.get("text")
        await repo.record_note(int(question_key[len(LINE_KEY) :]),
                               text if isinstance(text, str) else None)  # fmt: skip
