"""The werkbegeleider's side: /werkbegeleider (a student's link), joining with it, the
observation taps and the optional line, /verder, /signaal, and a mentor's unlink button."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.observe import links
from bot.observe import round as observation
from bot.observe.links import LinkOffer, LinkProblem
from bot.observe.signals import MAX_SIGNAL, SENDER_ROLES, send_signal
from bot.outbox.queue import Outgoing
from bot.people.identity import Identity
from bot.runtime.commands import publish_role_commands
from bot.runtime.context import MentorContext
from bot.texts import t
from handlers.base import answer, command_argument, display_name, unit_of_work
from handlers.roles import Reply, Scope, StudentScope, as_anyone, as_student
from storage.records import MemberRecord
from storage.repos.rounds import PromptRepo

CONSENT_YES = "w:y:"
CONSENT_NO = "w:n:"
CONSENT_PATTERN = r"^w:[yn]:[A-Za-z0-9_-]{1,60}$"
UNLINK = "u:"
UNLINK_PATTERN = r"^u:\d{1,12}$"


@as_student(not_student="observe.students_link_only")
async def link_command(update: Update, context: MentorContext, scope: StudentScope) -> Reply:
    """/werkbegeleider: a student gets a personal link to forward to their werkbegeleider."""
    student, lang = scope.student, scope.language
    invite = await links.new_link(scope.session, student, scope.now)
    return lambda: _send_link(update, context, lang, student.name, invite.code)


async def _send_link(
    update: Update, context: MentorContext, lang: str, student: str, code: str
) -> None:
    await answer(update, lang, "observe.link_for_student", days=links.LINK_DAYS)
    username = context.bot.username
    if username:
        link = f"https://t.me/{username}?start={code}"
        await answer(update, lang, "observe.link_forward", student=student, link=link)
    else:
        await answer(update, lang, "observe.link_forward_code", student=student, code=code)


async def offer_link(update: Update, context: MentorContext, code: str) -> None:
    """/start with a werkbegeleider's link: explain what is kept and ask for consent."""
    await _offer_link(update, context)


@as_anyone
async def _offer_link(update: Update, context: MentorContext, scope: Scope) -> Reply:
    code = command_argument(context)
    offer = await links.inspect_link(scope.session, code, scope.who.user_id, scope.now)
    lang = scope.language
    if isinstance(offer, LinkProblem):
        return lambda: answer(update, lang, offer.value)
    agree = InlineKeyboardButton(t("consent.agree_button", lang), callback_data=CONSENT_YES + code)
    decline = InlineKeyboardButton(
        t("consent.decline_button", lang), callback_data=CONSENT_NO + code
    )
    values = {"student": offer.student.name, "cohort": offer.cohort.name,
              "retention_days": context.state.config().retention_days}  # fmt: skip
    markup = InlineKeyboardMarkup([[agree], [decline]])
    return lambda: answer(update, lang, "observe.consent", markup=markup, **values)


@as_anyone
async def consent_button(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """The werkbegeleider's answer to the consent question: agree links, decline keeps nothing."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_chat is not None
    code = query.data[len(CONSENT_YES) :]
    who, session = scope.who, scope.session
    result: links.Linked | LinkOffer | LinkProblem
    if query.data.startswith(CONSENT_YES):
        result = await links.accept(session, code, user_id=who.user_id,
                                    chat_id=update.effective_chat.id,
                                    display_name=display_name(update), now=scope.now)  # fmt: skip
    else:
        result = await links.inspect_link(session, code, who.user_id, scope.now)
        if isinstance(result, LinkOffer):
            await links.refuse(session, result, scope.now)
    return lambda: _consent_reply(update, context, scope.language, result)


async def _consent_reply(
    update: Update,
    context: MentorContext,
    lang: str,
    result: links.Linked | LinkOffer | LinkProblem,
) -> None:
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    await query.answer()
    await _remove_buttons(query)
    if isinstance(result, LinkProblem):
        await answer(update, lang, result.value)
    elif isinstance(result, LinkOffer):
        await answer(update, lang, "observe.declined")
    else:
        name, student, cohort = result.werkbegeleider.name, result.student.name, result.cohort.name
        await answer(update, lang, "observe.welcome", name=name, student=student, cohort=cohort)
        if result.first:
            await publish_role_commands(context.bot, update.effective_chat.id, links.ROLE, lang)


@as_anyone
async def tap_button(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """A tapped level (or Klaar): store it, confirm it, send the next skill or the line."""
    query = update.callback_query
    assert query is not None and query.data is not None
    token, _, raw = query.data[len(observation.TAP) :].rpartition(":")
    outcome = await observation.save_tap(
        scope.session, scope.who.user_id, token, raw, scope.language, scope.now
    )
    return lambda: _tapped(update, context, outcome)


async def _tapped(update: Update, context: MentorContext, outcome: observation.TapOutcome) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(outcome.ack)
    await _send(update, context, outcome.follow_ups, outcome.completed_cohort)
    message = query.message
    text = getattr(message, "text", None)
    if outcome.edit is not None and text is not None:
        base = text.split("\n\n➡️")[0].rstrip()
        markup = getattr(message, "reply_markup", None)
        try:  # the buttons stay: the werkbegeleider can change the answer until the round closes
            await query.edit_message_text(f"{base}\n\n{outcome.edit}", reply_markup=markup)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise


async def note_text(update: Update, context: MentorContext, who: Identity) -> bool:
    """A werkbegeleider's typed line; False when no line was waiting (the caller falls back)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    async with unit_of_work(context) as session:
        outcome = None
        for member in who.active(links.ROLE):
            outcome = await observation.save_note(
                session, member, message.text, reply_to, who.language, context.state.now()
            )
            if outcome is not None:
                break
    if outcome is None:
        return False
    await answer_plain(update, outcome.ack)
    await _send(update, context, outcome.follow_ups, outcome.completed_cohort)
    return True


async def resume(update: Update, context: MentorContext, who: Identity) -> None:
    """/verder for a werkbegeleider: the request where they stopped, per student."""
    async with unit_of_work(context) as session:
        asks = []
        for member in who.active(links.ROLE):
            asks += await observation.resume(session, member, who.language)
    if not asks:
        await answer(update, who.language, "observe.resume_nothing")
        return
    await _send(update, context, list(asks))


@as_anyone
async def signal_command(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """/signaal <tekst>: a need seen in the field, to the mentor team (and the monthly report)."""
    text, who, lang = command_argument(context), scope.who, scope.language
    sender = next((m for role in SENDER_ROLES for m in who.active(role)), None)
    if sender is None:
        key = "input.not_enrolled" if not who.is_enrolled else "observe.signal_only"
        return lambda: answer(update, lang, key)
    if not text or not any(ch.isalnum() for ch in text) or len(text) > MAX_SIGNAL:
        return lambda: answer(update, lang, "observe.signal_usage")
    await send_signal(scope.session, sender, text, scope.now)
    return lambda: _signal_sent(update, context, lang)


async def _signal_sent(update: Update, context: MentorContext, lang: str) -> None:
    context.state.wake_sender()
    await answer(update, lang, "observe.signal_sent")


@as_anyone
async def unlink_button(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """A mentor's Ontkoppel under /student: that werkbegeleider no longer observes the student."""
    query = update.callback_query
    assert query is not None and query.data is not None
    supervision = int(query.data[len(UNLINK) :])
    ended = await links.unlink(scope.session, supervision, scope.who.mentor_cohorts(), scope.now)
    return lambda: _unlinked(update, scope.language, ended)


async def _unlinked(
    update: Update, lang: str, ended: tuple[MemberRecord, MemberRecord] | None
) -> None:
    query = update.callback_query
    assert query is not None
    if ended is None:
        await query.answer(t("observe.unlink_refused", lang))
        return
    await query.answer()
    await answer(update, lang, "observe.unlinked", werkbegeleider=ended[0].name,
                 student=ended[1].name)  # fmt: skip


async def answer_plain(update: Update, text: str) -> None:
    if update.effective_chat is not None:
        await update.effective_chat.send_message(text)


async def _send(
    update: Update,
    context: MentorContext,
    items: list[observation.Ask | Outgoing],
    completed: int | None = None,
) -> None:
    chat = update.effective_chat
    assert chat is not None
    if completed is not None and context.state.running is not None:
        # the workplace's view is evidence too: decide the class's alerts with it now
        await context.state.running.evaluate_alerts(completed)
    for item in items:
        message = item.message if isinstance(item, observation.Ask) else item
        markup = (
            InlineKeyboardMarkup(
                [[InlineKeyboardButton(label, callback_data=data) for label, data in row]
                 for row in message.buttons]
            )
            if message.buttons
            else None
        )  # fmt: skip
        sent = await chat.send_message(message.text, reply_markup=markup)
        if isinstance(item, observation.Ask) and item.remember_message:
            async with unit_of_work(context) as session:
                await PromptRepo(session).set_message(item.token, sent.message_id)


async def _remove_buttons(query: object) -> None:
    if getattr(getattr(query, "message", None), "reply_markup", None) is None:
        return
    try:
        await query.edit_message_reply_markup(reply_markup=None)  # type: ignore[attr-defined]
    except BadRequest as exc:  # a double tap: the first press removed them already
        if "not modified" not in str(exc).lower():
            raise
