"""/nu KIND: a mentor sends this week's expectations, reflection or the werkbegeleiders'
observation now (idempotent per week)."""

from __future__ import annotations

from telegram import Update

from bot.runtime.context import MentorContext
from bot.schedule.on_demand import PushError
from handlers.base import answer
from handlers.roles import MentorScope, Reply, as_mentor

KINDS = {"expectations": "expectations", "verwachtingen": "expectations",
         "reflection": "reflection", "reflectie": "reflection",
         "observation": "observation", "observatie": "observation"}  # fmt: skip


@as_mentor
async def now_command(update: Update, context: MentorContext, scope: MentorScope) -> Reply:
    """/nu expectations|reflection|observation: queue that round of the current week now."""
    kind = KINDS.get(" ".join(scope.args).strip().lower())
    if kind is None:
        return lambda: answer(update, scope.language, "now.usage")
    return lambda: _push(update, context, scope.cohort_id, kind, scope.language)


async def _push(
    update: Update, context: MentorContext, cohort_id: int, kind: str, lang: str
) -> None:
    """Queued by the scheduler in its own transaction (it is idempotent per cohort and week)."""
    try:
        pushed = await context.state.live().scheduler.push(cohort_id, kind)
    except PushError as exc:
        await answer(update, lang, "now.refused", reason=str(exc))
        return
    if not pushed.created:
        key = "now.already"
    else:  # the observation goes to the werkbegeleiders, the other rounds to the students
        key = "now.queued_observation" if kind == "observation" else "now.queued"
    await answer(update, lang, key, week=pushed.week)
