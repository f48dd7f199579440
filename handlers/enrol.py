"""Joining: /start CODE, the consent question, and the answer to it."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.observe import links
from bot.people import enrolment
from bot.people.enrolment import CodeProblem, Joined, Offer
from bot.runtime.commands import publish_role_commands
from bot.runtime.context import MentorContext
from bot.schedule.next_round import weekly_phrase
from bot.texts import t
from handlers import observe
from handlers.base import (
    acknowledge,
    answer,
    command_argument,
    display_name,
    identify,
    unit_of_work,
)
from handlers.common import help_command, is_private
from handlers.roles import Reply, Scope, as_anyone

CONSENT_YES = "c:y:"
CONSENT_NO = "c:n:"
CONSENT_PATTERN = r"^c:[yn]:[A-Za-z0-9_-]{1,60}$"


@as_anyone
async def start_command(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """/start [CODE]: offer to join with a code, or tell a known user where they stand."""
    code = command_argument(context)
    who, lang = scope.who, scope.language
    if not is_private(update):
        return lambda: answer(update, lang, "enrol.start_in_private")
    if not code:
        if who.is_enrolled:
            return lambda: _tell_where_they_stand(update, context, lang)
        return lambda: answer(update, lang, "help.stranger")
    if await links.is_link(scope.session, code):
        # a student's link for their werkbegeleider: its own consent (handlers/observe.py)
        return lambda: observe.offer_link(update, context, code)
    known = await enrolment.membership_by_code(scope.session, code, who.user_id)
    if known is not None:
        role = t(f"role.{known[0].role}", lang)
        return lambda: answer(update, lang, "enrol.already", cohort=known[1].name, role=role)
    offer = await enrolment.inspect_code(scope.session, code, scope.now)
    return lambda: _offer(update, context, offer, code, lang)


async def _offer(
    update: Update, context: MentorContext, offer: Offer | CodeProblem, code: str, lang: str
) -> None:
    """Say what is wrong with the code, ask a student's consent, or let staff join at once."""
    if isinstance(offer, CodeProblem):
        await answer(update, lang, offer.value)
    elif offer.invite.role == "student":
        await _ask_consent(update, context, offer, code, lang)
    else:
        await _join(update, context, code, lang)


async def _tell_where_they_stand(update: Update, context: MentorContext, lang: str) -> None:
    await help_command(update, context)


async def _ask_consent(
    update: Update, context: MentorContext, offer: Offer, code: str, lang: str
) -> None:
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t("consent.agree_button", lang), callback_data=CONSENT_YES + code
                )
            ],
            [
                InlineKeyboardButton(
                    t("consent.decline_button", lang), callback_data=CONSENT_NO + code
                )
            ],
        ]
    )
    retention = context.state.config().retention_days
    await answer(
        update,
        lang,
        "consent.explain",
        markup=buttons,
        cohort=offer.cohort.name,
        retention_days=retention,
    )


async def consent_button(update: Update, context: MentorContext) -> None:
    """The student's answer to the consent question: agree enrols, decline keeps nothing."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await acknowledge(query)
    code = query.data[len(CONSENT_YES) :]
    if query.data.startswith(CONSENT_YES):
        await _join(update, context, code, None)
    else:
        await _decline(update, context, code)
    if getattr(query.message, "reply_markup", None) is not None:
        try:  # the buttons have done their work
            await query.edit_message_reply_markup(reply_markup=None)
        except BadRequest as exc:  # a double tap: the first press removed them already
            if "not modified" not in str(exc).lower():
                raise


async def _decline(update: Update, context: MentorContext, code: str) -> None:
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        offer = await enrolment.inspect_code(session, code, context.state.now())
        if isinstance(offer, Offer):
            await enrolment.refuse(session, offer, context.state.now())
    if isinstance(offer, CodeProblem):
        await answer(update, who.language, offer.value)
    else:
        await answer(update, who.language, "consent.declined")


async def _join(update: Update, context: MentorContext, code: str, lang: str | None) -> None:
    chat = update.effective_chat
    assert chat is not None
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        result = await enrolment.join(
            session,
            code,
            user_id=who.user_id,
            chat_id=chat.id,
            display_name=display_name(update),
            now=context.state.now(),
        )
    lang = who.language
    if isinstance(result, CodeProblem):
        await answer(update, lang, result.value)
        return
    await _welcome(update, lang, result, code)
    if not result.already:
        await publish_role_commands(context.bot, chat.id, result.member.role, lang)


async def _welcome(update: Update, lang: str, joined: Joined, code: str) -> None:
    member, cohort = joined.member, joined.cohort
    if joined.already:
        role = t(f"role.{member.role}", lang)
        await answer(update, lang, "enrol.already", cohort=cohort.name, role=role)
    elif member.role == "student":
        await answer(
            update,
            lang,
            "consent.thanks_student",
            name=member.name,
            cohort=cohort.name,
            expectations_when=weekly_phrase(cohort.expectations_at, lang),
            reflection_when=weekly_phrase(cohort.reflection_at, lang),
        )
    elif member.role == "mentor":
        await answer(
            update, lang, "enrol.mentor_welcome", name=member.name, cohort=cohort.name, code=code
        )
    else:
        await answer(update, lang, "enrol.observer_welcome", name=member.name, cohort=cohort.name)
