"""The mentor team's group chat: /koppel CODE links it to the cohort."""

from __future__ import annotations

from telegram import Update

from bot.runtime.context import MentorContext
from handlers.base import answer, command_argument, identify, unit_of_work
from handlers.common import is_private
from storage.repos import CohortRepo, InviteRepo


async def link_command(update: Update, context: MentorContext) -> None:
    """/koppel CODE in a group: a mentor links the group with their own mentor code."""
    code = command_argument(context)
    chat = update.effective_chat
    assert chat is not None
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        if is_private(update):
            await answer(update, who.language, "link.group_only")
            return
        if not code:
            await answer(update, who.language, "link.usage")
            return
        invite = await InviteRepo(session).get(code) if len(code) <= 64 else None
        expired = (
            invite is not None
            and invite.expires_at is not None
            and invite.expires_at <= context.state.now()
        )
        mentor = who.in_cohort(invite.cohort_id) if invite is not None else None
        if (
            invite is None
            or expired
            or invite.role != "mentor"
            or mentor is None
            or mentor.role != "mentor"
        ):
            await answer(update, who.language, "link.not_allowed")
            return
        current = await CohortRepo(session).by_group_chat(chat.id)
        if (
            current is not None
            and current.id != invite.cohort_id
            and who.in_cohort(current.id) is None
        ):
            # the group is another class's team group: only its own mentors may relink it
            await answer(update, who.language, "link.not_allowed")
            return
        await CohortRepo(session).link_group(invite.cohort_id, chat.id)
        cohort = await CohortRepo(session).get(invite.cohort_id)
    assert cohort is not None
    await answer(update, who.language, "link.done", cohort=cohort.name)
