"""The observation round: per supervised student the week's focus skills one at a time
(nooit / oefenen / voldoende / goed / niet gezien), then an optional line. Every tap is stored
the moment it arrives and can change until the round closes; /verder resumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.observe import agreement_question
from bot.outbox.queue import Outgoing, Queued
from bot.plans import Skill
from bot.plans.store import plan_for
from bot.texts import normalise_language, t
from storage.db import Session
from storage.records import CohortRecord, MemberRecord, RoundRecord
from storage.repos import CohortRepo, MemberRepo, UserSettingsRepo
from storage.repos.observations import NOTE_SKILL, ObservationRepo, SupervisionRepo
from storage.repos.rounds import PromptRepo, RoundRepo

ROLE = "werkbegeleider"
KIND = "observation"
LEVELS = ("nooit", "oefenen", "voldoende", "goed")  # stored as 0..3
NOT_SEEN = len(LEVELS)  # the fifth button: no evidence either way, stored as level None
DONE = "k"
TAP = "o:"  # o:<token>:<0-4> on a skill, o:<token>:k (Klaar) under the line
TAP_PATTERN = r"^o:[A-Za-z0-9_-]{1,24}:([0-4]|k)$"
RESUME = "v:"  # the Verder button the students' reminder uses too; routed by role
MAX_NOTE = 500


@dataclass(frozen=True)
class Ask:
    """A request to send now; a line's request is remembered so a reply answers it."""

    token: str
    message: Outgoing
    remember_message: bool = False


@dataclass
class TapOutcome:
    ack: str
    edit: str | None = None
    follow_ups: list[Ask | Outgoing] = field(default_factory=list)
    stale: bool = False
    completed_cohort: int | None = None  # a werkbegeleider just finished: check the gaps


def prompt_key(student_id: int, skill: str) -> str:
    return f"obs:{student_id}:{skill}"


def parse_key(key: str) -> tuple[int, str] | None:
    kind, _, rest = key.partition(":")
    student, _, skill = rest.partition(":")
    return (int(student), skill) if kind == "obs" and student.isdigit() and skill else None


def level_label(level: int | None, lang: str) -> str:
    return t(
        f"observe.level.{LEVELS[level]}" if level is not None else "observe.level.unseen", lang
    )


async def week_skills(session: Session, cohort: CohortRecord, week: int) -> list[Skill]:
    """The skills the students rate in that week, in the order they are asked."""
    plan = await plan_for(session, cohort)
    resolved = plan.week(week)  # the plan caches its resolved weeks
    keys = [q.skill for q in resolved.questions if q.kind == "rating" and q.skill]
    by_key = {s.key: s for s in resolved.focus_skills}
    return [by_key.get(k) or plan.skill(k) for k in dict.fromkeys(keys)]


async def round_messages(
    session: Session, cohort: CohortRecord, round_: RoundRecord
) -> list[Queued]:
    """One message per (werkbegeleider, supervised student): that student's first skill."""
    skills = await week_skills(session, cohort, round_.week)
    if not skills:
        return []
    werkbegeleiders = await MemberRepo(session).in_cohort(cohort.id, ROLE, statuses=("active",))
    languages = await UserSettingsRepo(session).languages(
        [w.telegram_user_id for w in werkbegeleiders if w.telegram_user_id]
    )
    items = []
    for wb in werkbegeleiders:
        links = await SupervisionRepo(session).of_werkbegeleider(wb.id)
        if wb.chat_id is None or not links:
            continue
        await RoundRepo(session).add_participants(round_.id, [wb.id])
        lang = normalise_language(languages.get(wb.telegram_user_id or 0))
        for link in links:
            ask = await next_ask(session, round_, wb, link.student_id, lang, again=True)
            if ask is not None:
                key = f"obs:{round_.id}:{wb.id}:{link.student_id}"
                items.append(
                    Queued(key, wb.chat_id, "round", ask.message, cohort.id, round_.id, wb.id)
                )
    return items


async def next_ask(
    session: Session,
    round_: RoundRecord,
    wb: MemberRecord,
    student_id: int,
    lang: str,
    *,
    again: bool = False,
) -> Ask | None:
    """The student's first skill without an observation, then a shared agreement due this
    week (bot.observe.agreement_question), else the line; None when all are done, or when it
    was asked already (unless `again`)."""
    cohort = await CohortRepo(session).get(round_.cohort_id)
    student = await MemberRepo(session).get(student_id)
    if cohort is None or student is None:
        return None
    skills = await week_skills(session, cohort, round_.week)
    done = {o.skill for o in await ObservationRepo(session).in_round(round_.id, wb.id, student_id)}
    todo = next((s for s in skills if s.key not in done), None)
    if todo is None and NOTE_SKILL not in done:
        agreement = await agreement_question.next_question(session, round_, wb, student_id)
        if agreement is not None:
            key = prompt_key(student_id, agreement_question.key_of(agreement.id))
            token, new = await PromptRepo(session).ensure(round_.id, wb.id, key)
            if not new and not again:
                return None
            return Ask(
                token, agreement_question.question(agreement, student.name, token, TAP, lang)
            )
    if todo is None and NOTE_SKILL in done:
        return None
    key = prompt_key(student_id, todo.key if todo else NOTE_SKILL)
    token, new = await PromptRepo(session).ensure(round_.id, wb.id, key)
    if not new and not again:
        return None
    if todo is None:
        text = t("observe.note", lang, student=student.name)
        return Ask(
            token, Outgoing(text, [[(t("observe.done_button", lang), f"{TAP}{token}:k")]]), True
        )
    index = skills.index(todo) + 1
    text = t("observe.ask", lang, week=round_.week, student=student.name, index=index,
             total=len(skills), skill=todo.in_language(lang).title)  # fmt: skip
    labels = [t(f"observe.level.{name}", lang) for name in LEVELS]
    buttons = [
        [(labels[i], f"{TAP}{token}:{i}") for i in range(2)],
        [(labels[i], f"{TAP}{token}:{i}") for i in range(2, 4)],
        [(t("observe.level.unseen", lang), f"{TAP}{token}:{NOT_SEEN}")],
    ]
    return Ask(token, Outgoing(text, buttons))


async def save_tap(
    session: Session, user_id: int, token: str, raw: str, lang: str, now: datetime
) -> TapOutcome:
    """A tapped level (or Klaar under the line), checked against the sender, the open round
    and the link; anything else changes nothing."""
    prompt = await PromptRepo(session).get(token)
    wb = await MemberRepo(session).get(prompt.member_id) if prompt else None
    parsed = parse_key(prompt.question_key) if prompt else None
    if prompt is None or wb is None or parsed is None or wb.telegram_user_id != user_id:
        return TapOutcome(t("input.stale_button", lang), stale=True)
    round_ = await RoundRepo(session).get(prompt.round_id)
    if round_ is None or not round_.is_open:
        return TapOutcome(t("answer.closed", lang), stale=True)
    student_id, skill = parsed
    if not await _supervises(session, wb.id, student_id):
        return TapOutcome(t("input.stale_button", lang), stale=True)
    if agreement_question.agreement_id(skill) is not None:
        return await _store_agreement(session, round_, wb, student_id, skill, raw, lang, now)
    is_note = skill == NOTE_SKILL
    if (raw == DONE) != is_note:
        return TapOutcome(t("input.stale_button", lang), stale=True)
    level = None if is_note or int(raw) == NOT_SEEN else int(raw)
    return await _store(session, round_, wb, student_id, skill, level, None, lang, now)


async def save_note(
    session: Session,
    wb: MemberRecord,
    text: str,
    reply_to: int | None,
    lang: str,
    now: datetime,
) -> TapOutcome | None:
    """A typed line after a student's skills; None when no line is waiting."""
    prompts = PromptRepo(session)
    prompt = await prompts.by_message(wb.id, reply_to) if reply_to else None
    if prompt is None:
        prompt = await _waiting_note(session, wb)
    parsed = parse_key(prompt.question_key) if prompt else None
    if prompt is None or parsed is None or parsed[1] != NOTE_SKILL:
        return None
    round_ = await RoundRepo(session).get(prompt.round_id)
    if round_ is None or not round_.is_open:
        return TapOutcome(t("answer.closed", lang))
    if not text.strip() or not any(ch.isalnum() for ch in text):
        return TapOutcome(t("input.empty", lang))
    if len(text) > MAX_NOTE:
        return TapOutcome(t("input.too_long", lang, length=len(text), limit=MAX_NOTE))
    return await _store(session, round_, wb, parsed[0], NOTE_SKILL, None, text.strip(), lang, now)


async def resume(session: Session, wb: MemberRecord, lang: str) -> list[Ask]:
    """/verder: for each supervised student, the request where the werkbegeleider stopped."""
    round_ = await RoundRepo(session).latest(wb.cohort_id, KIND)
    if round_ is None:
        return []
    # linked after the round opened: they may still observe this week
    await RoundRepo(session).add_participants(round_.id, [wb.id])
    asks = []
    for link in await SupervisionRepo(session).of_werkbegeleider(wb.id):
        ask = await next_ask(session, round_, wb, link.student_id, lang, again=True)
        if ask is not None:
            asks.append(ask)
    return asks


async def reminder_messages(
    session: Session, cohort: CohortRecord, week: int, reminder_round_id: int
) -> list[Queued]:
    """One reminder to each werkbegeleider whose observation round of `week` is unfinished."""
    round_ = await RoundRepo(session).find(cohort.id, week, KIND)
    if round_ is None or not round_.is_open:
        return []
    members = MemberRepo(session)
    items = []
    for member_id in await RoundRepo(session).unfinished(round_.id):
        wb = await members.get(member_id)
        if wb is None or wb.role != ROLE or wb.chat_id is None:
            continue
        lang = normalise_language(
            await UserSettingsRepo(session).language(wb.telegram_user_id or 0)
        )
        message = Outgoing(
            t("observe.reminder", lang, week=week), [[(t("round.continue_button", lang), RESUME)]]
        )
        key = f"round:{reminder_round_id}:{wb.id}"
        items.append(Queued(key, wb.chat_id, "round", message, cohort.id, reminder_round_id, wb.id))
    return items


async def _store(
    session: Session,
    round_: RoundRecord,
    wb: MemberRecord,
    student_id: int,
    skill: str,
    level: int | None,
    text: str | None,
    lang: str,
    now: datetime,
) -> TapOutcome:
    observations = ObservationRepo(session)
    had = any(o.skill == skill for o in await observations.in_round(round_.id, wb.id, student_id))
    changed = await observations.save(
        round_.id, wb.id, student_id, skill, level=level, text=text, now=now
    )
    await RoundRepo(session).mark_started(round_.id, wb.id, now)
    key = "answer.changed" if had and changed else "answer.saved" if changed else "answer.unchanged"
    shown = text if skill == NOTE_SKILL and text else None
    if skill == NOTE_SKILL:
        edit = t("answer.chosen", lang, value=shown) if shown else t("observe.no_note", lang)
        await agreement_question.keep_line(session, round_, wb, student_id, shown)
    else:
        edit = t("answer.chosen", lang, value=level_label(level, lang))
    outcome = TapOutcome(t(key, lang), edit=edit)
    return await _then_next(session, round_, wb, student_id, lang, now, outcome, had)


async def _store_agreement(
    session: Session,
    round_: RoundRecord,
    wb: MemberRecord,
    student_id: int,
    skill: str,
    raw: str,
    lang: str,
    now: datetime,
) -> TapOutcome:
    saved = await agreement_question.save(session, round_, wb, student_id, skill, raw, now)
    if saved is None:
        return TapOutcome(t("input.stale_button", lang), stale=True)
    had, chosen = saved
    await RoundRepo(session).mark_started(round_.id, wb.id, now)
    value = t(f"observe.agreement.{chosen}", lang)
    outcome = TapOutcome(
        t("answer.changed" if had else "answer.saved", lang),
        edit=t("answer.chosen", lang, value=value),
    )
    return await _then_next(session, round_, wb, student_id, lang, now, outcome, had)


async def _then_next(
    session: Session,
    round_: RoundRecord,
    wb: MemberRecord,
    student_id: int,
    lang: str,
    now: datetime,
    outcome: TapOutcome,
    had: bool,
) -> TapOutcome:
    """After a first answer: the next request, or the thanks when everything is done."""
    if had:
        return outcome  # a change: the next request went out with the first answer
    follow = await next_ask(session, round_, wb, student_id, lang)
    if follow is not None:
        outcome.follow_ups.append(follow)
    elif await _all_done(session, round_, wb) and await RoundRepo(session).mark_completed(
        round_.id, wb.id, now
    ):
        outcome.follow_ups.append(Outgoing(t("observe.thanks", lang, week=round_.week)))
        outcome.completed_cohort = round_.cohort_id
    return outcome


async def _all_done(session: Session, round_: RoundRecord, wb: MemberRecord) -> bool:
    done = {
        (o.student_id, o.skill) for o in await ObservationRepo(session).in_round(round_.id, wb.id)
    }
    links = await SupervisionRepo(session).of_werkbegeleider(wb.id)
    return all((link.student_id, NOTE_SKILL) in done for link in links)


async def _waiting_note(session: Session, wb: MemberRecord):  # type: ignore[no-untyped-def]
    """The line request of the open round that was sent and has no answer yet."""
    round_ = await RoundRepo(session).latest(wb.cohort_id, KIND)
    if round_ is None:
        return None
    done = {o.student_id for o in await ObservationRepo(session).in_round(round_.id, wb.id)
            if o.skill == NOTE_SKILL}  # fmt: skip
    prompts = PromptRepo(session)
    for link in await SupervisionRepo(session).of_werkbegeleider(wb.id):
        if link.student_id in done:
            continue
        found = await prompts.find(round_.id, wb.id, prompt_key(link.student_id, NOTE_SKILL))
        if found is not None:
            return found
    return None


async def _supervises(session: Session, wb_id: int, student_id: int) -> bool:
    links = await SupervisionRepo(session).of_werkbegeleider(wb_id)
    return any(link.student_id == student_id for link in links)
