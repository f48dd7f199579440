"""Both views reach the rules: what a student rated and what the werkbegeleider
tapped, each through the real bot, end up in the gap snapshot the rules read; "niet gezien"
and the optional line never become evidence."""

from __future__ import annotations

from bot.gaps.check import gap_check
from bot.gaps.cohort_data import load_cohort_data
from bot.gaps.model import WorkplaceObservation
from storage.repos import MemberRepo
from tests.e2e.test_checkin import answer_until
from tests.harness import Harness
from tests.observe.helpers import accept, class_with_students, is_request, link_of


async def test_self_rating_and_observation_both_in_the_snapshot(h: Harness) -> None:
    cohort_id, [anna] = await class_with_students(h, "Anna")
    ellen = h.api.add_user("Ellen")
    await accept(h, ellen, await link_of(h, anna))
    scheduler = h.state.live().scheduler

    await scheduler.push(cohort_id, "reflection", week=1)
    first = await h.api.wait_for_message(
        anna, lambda m: "reflectie van week 1" in (m.text or ""), timeout=20
    )
    await answer_until(h, anna, first, None)

    await scheduler.push(cohort_id, "observation", week=1)
    request = await h.api.wait_for_message(ellen, is_request, timeout=20)
    mark = h.api.mark(ellen)
    await h.api.press(ellen, request, "Oefenen")
    second = await h.api.wait_for_message(ellen, is_request, since=mark)
    mark = h.api.mark(ellen)
    await h.api.press(ellen, second, "Niet gezien")
    note = await h.api.wait_for_message(ellen, is_request, since=mark)
    mark = h.api.mark(ellen)
    await h.api.send_text(ellen, "Ze vraagt veel, dat is goed.")
    await h.api.wait_for_message(ellen, lambda m: "bewaard" in (m.text or ""), since=mark)
    assert note is not None

    async with h.db.transaction() as s:
        [student] = await MemberRepo(s).of_user(anna.id)
        [wb] = await MemberRepo(s).of_user(ellen.id)
        data = await load_cohort_data(s, cohort_id)
        check = await gap_check(s, cohort_id)
    assert data is not None and check is not None
    snapshot = data.cohort_answers()
    assert {(r.student_id, r.skill) for r in snapshot.ratings} == {
        (student.id, "klimaat"), (student.id, "samenwerken")
    }  # fmt: skip
    expected = (WorkplaceObservation(student.id, 1, "klimaat", 1, wb.id),)
    assert snapshot.observations == expected  # niet gezien and the line are no evidence
    assert check._student(student.id).snapshot.observations == expected
    # a skill's memo keeps no snapshot (its class asks suffice): its view of the workplace is
    # the closed observation rounds' taps kept in the cache and the open round's read now
    kept = check.entry.observed_by_skill.get("klimaat", [])
    assert (*kept, *check._observed_skill.get("klimaat", ())) == expected
