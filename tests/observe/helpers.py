"""A class with the two-skill test plan, students who joined through the bot, and
werkbegeleiders linked to them with the students' own /werkbegeleider links."""

from __future__ import annotations

import re

from sqlalchemy import select

from storage.models import Observation
from storage.records import ObservationRecord
from storage.repos.observations import ObservationRepo
from tests.factories import make_cohort
from tests.harness import Harness
from tests.mentor.helpers import PLAN
from tgsandbox import SandboxUser, SentMessage

LINK = re.compile(r"start=([A-Za-z0-9_-]+)")
SKILL_1 = "Zorgt voor een veilig pedagogisch klimaat"
SKILL_2 = "Werkt samen met betrokkenen"


async def class_with_students(h: Harness, *names: str) -> tuple[int, list[SandboxUser]]:
    async with h.db.transaction() as s:
        cohort_id = await make_cohort(s, plan=PLAN)
    users = []
    for name in names:
        user = h.api.add_user(name)
        await h.join(user, await h.personal_code(cohort_id, name))
        users.append(user)
    return cohort_id, users


async def link_of(h: Harness, student: SandboxUser) -> str:
    """The code in the message the student forwards after /werkbegeleider."""
    await h.say(student, "/werkbegeleider")
    forward = await h.api.wait_for_message(student, lambda m: "start=" in (m.text or ""))
    found = LINK.search(forward.text or "")
    assert found is not None
    return found.group(1)


async def accept(h: Harness, user: SandboxUser, code: str) -> SentMessage:
    """Open the link and agree: the welcome message."""
    consent = await h.say(user, f"/start {code}")
    assert "Ga je akkoord?" in (consent.text or ""), consent.text
    mark = h.api.mark(user)
    await h.api.press(user, consent, "Ik ga akkoord")
    return await h.api.wait_for_message(user, since=mark)


async def observations(h: Harness) -> list[ObservationRecord]:
    async with h.db.transaction() as s:
        ids = list(await s.scalars(select(Observation.werkbegeleider_id).distinct()))
        return [o for wb in ids for o in await ObservationRepo(s).by_werkbegeleider(wb)]


def is_request(message: SentMessage) -> bool:
    text = message.text or ""
    return re.search(r"vaardigheid \d van \d", text) is not None or "Nog iets kwijt" in text
