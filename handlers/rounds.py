"""/nu KIND: a mentor sends this week's expectations or reflection now (idempotent per week)."""

from __future__ import annotations

from telegram import Update

from bot.runtime.context import MentorContext
from bot.schedule.on_demand import PushError
from handlers.base import answer, command_argument, identify, unit_of_work
from storage.repos import CohortRepo

KINDS = {"expectations": "expectations", "verwachtingen": "expectations",
         "reflection": "reflection", "reflectie": "reflection"}  # fmt: skip


async def now_command(update: Update, context: MentorContext) -> None:
    """/nu expectations|reflection: queue that round of the current week now."""
    kind = KINDS.get(command_argument(context).lower())
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        cohorts = who.mentor_cohorts()
        chat = update.effective_chat
        if chat is not None and chat.type != "private":
            # in a group only for the cohort linked to it, and only by its own mentors
            linked = await CohortRepo(session).by_group_chat(chat.id)
            cohorts = [linked.id] if linked is not None and linked.id in cohorts else []
    if not cohorts:
        await answer(update, who.language, "input.mentor_only")
        return
    if kind is None:
        await answer(update, who.language, "now.usage")
        return
    try:
        pushed = await context.state.live().scheduler.push(cohorts[0], kind)
    except PushError as exc:
        await answer(update, who.language, "now.refused", reason=str(exc))
        return
    key = "now.queued" if pushed.created else "now.already"
    await answer(update, who.language, key, week=pushed.week)
