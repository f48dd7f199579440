"""The mentor team's group chat: /koppel CODE links it to the cohort."""

from __future__ import annotations

from telegram import Update

from bot.runtime.context import MentorContext
from handlers.base import answer, command_argument
from handlers.common import is_private
from handlers.roles import Reply, Scope, as_anyone
from storage.repos import CohortRepo, InviteRepo


@as_anyone
async def link_command(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """/koppel CODE in a group: a mentor links the group with their own mentor code."""
    code = command_argument(context)
    chat = update.effective_chat
    assert chat is not None
    session, who, lang = scope.session, scope.who, scope.language
    if is_private(update):
        return lambda: answer(update, lang, "link.group_only")
    if not code:
        return lambda: answer(update, lang, "link.usage")
    invite = await InviteRepo(session).get(code) if len(code) <= 64 else None
    expired = (
        invite is not None and invite.expires_at is not None and invite.expires_at <= scope.now
    )
    mentor = who.in_cohort(invite.cohort_id) if invite is not None else None
    if (
        invite is None
        or expired
        or invite.role != "mentor"
        or mentor is None
        or mentor.role != "mentor"
    ):
        return lambda: answer(update, lang, "link.not_allowed")
    current = await CohortRepo(session).by_group_chat(chat.id)
    if current is not None and current.id != invite.cohort_id and who.in_cohort(current.id) is None:
        # the group is another class's team group: only its own mentors may relink it
        return lambda: answer(update, lang, "link.not_allowed")
    await CohortRepo(session).link_group(invite.cohort_id, chat.id)
    cohort = await CohortRepo(session).get(invite.cohort_id)
    assert cohort is not None
    return lambda: answer(update, lang, "link.done", cohort=cohort.name)
