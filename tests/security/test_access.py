"""Access control: every mentor and admin-ish command, tried by everyone who may
not use it — a student, a stranger, a mentor of another class, and a mentor in a group their
class is not linked to — gets the polite refusal, shows nothing of the class, and changes
nothing in the database."""

from __future__ import annotations

import pytest

from handlers.observer import observer_handlers
from storage.repos import MemberRepo
from tests.harness import Harness
from tests.mentor.helpers import week_time
from tests.security.helpers import (
    MENTOR_ONLY,
    SORRY,
    TwoClasses,
    changes,
    db_state,
    two_classes,
    visible,
)
from tgsandbox import SandboxChat, SandboxUser

MENTOR_COMMANDS = (
    "/overzicht",
    "/gaten",
    "/student Anna",
    "/grafiek",
    "/export",
    "/verwachting Oefen deze week een kringgesprek.",
    "/antwoord {question} Ja, dat mag.",
)

# who tries, and where: (user, chat) picked from the two classes
ACTORS = {
    "student-private": lambda w: (w.anna, None),
    "stranger-private": lambda w: (w.stranger, None),
    "mentor-in-other-class-group": lambda w: (w.marit, w.group_b),
    "mentor-in-unlinked-group": lambda w: (w.marit, w.loose_group),
    "other-class-mentor-in-this-group": lambda w: (w.olga, w.group_a),
    "stranger-in-team-group": lambda w: (w.stranger, w.group_a),
}


def actor(w: TwoClasses, name: str) -> tuple[SandboxUser, SandboxChat | None]:
    return ACTORS[name](w)


@pytest.mark.parametrize("who", sorted(ACTORS))
async def test_mentor_commands_are_refused_and_change_nothing(h: Harness, who: str) -> None:
    w = await two_classes(h)
    user, chat = actor(w, who)
    before = await db_state(h)
    for command in MENTOR_COMMANDS:
        command = command.format(question=w.question_id)
        reply = await h.say(user, command, chat=chat)
        assert reply.kind == "text" and reply.text == MENTOR_ONLY, (who, command, reply.text)
    assert changes(before, await db_state(h)) == {}


async def test_a_student_in_the_team_group_is_sent_to_the_private_chat(h: Harness) -> None:
    w = await two_classes(h)
    before = await db_state(h)
    for command in (*MENTOR_COMMANDS, "/nu reflection", "/koppel ABC"):
        reply = await h.say(w.anna, command.format(question=w.question_id), chat=w.group_a)
        assert "privégesprek" in reply.text, (command, reply.text)
        assert not any(name in reply.text for name in w.a_names)
    assert changes(before, await db_state(h)) == {}


@pytest.mark.parametrize(
    "who",
    [
        "student-private",
        "stranger-private",
        "stranger-in-team-group",
        "mentor-in-other-class-group",
        "mentor-in-unlinked-group",
        "other-class-mentor-in-this-group",
    ],
)
async def test_now_is_refused_and_sends_no_round(h: Harness, who: str) -> None:
    w = await two_classes(h)
    user, chat = actor(w, who)
    before = await db_state(h)
    for command in ("/nu reflection", "/nu expectations", "/nu"):
        reply = await h.say(user, command, chat=chat)
        assert reply.text == MENTOR_ONLY, (who, command, reply.text)
    assert changes(before, await db_state(h)) == {}


async def test_mentor_of_another_class_sees_only_their_own_class(h: Harness) -> None:
    """Olga (PW3B) in her private chat: naming PW3A, its students or its question number
    gives her PW3B's figures or a "not found", never PW3A's names, figures or words."""
    w = await two_classes(h)
    before_a = await db_state(h, w.a)
    commands = (
        "/overzicht PW3A",
        "/gaten PW3A",
        "/student Anna",
        "/student Anna de Vries",
        "/student PW3A Anna",
        "/grafiek PW3A",
        "/export PW3A",
        f"/antwoord {w.question_id} Ja, dat mag.",
        "/nu reflection",
    )
    secrets = (*w.a_names, "Anna", "Mag ik ruilen", "een kind huilde", "Marit")
    for command in commands:
        reply = await h.say(w.olga, command)
        seen = visible(reply)
        leaked = [s for s in secrets if s in seen and s not in command]
        assert leaked == [], (command, seen)
        assert "PW3A" not in seen.replace(command, "") or "PW3A" in command, (command, seen)
        assert SORRY not in seen
    overview = await h.say(w.olga, "/overzicht")
    assert "PW3B" in overview.text and "Zara Visser" in overview.text
    refused = await h.say(w.olga, f"/antwoord {w.question_id} Ja, dat mag.")
    assert f"geen vraag met nummer {w.question_id}" in refused.text
    assert changes(before_a, await db_state(h, w.a)) == {}


@pytest.mark.parametrize(
    "who",
    ["student-in-loose-group", "stranger-in-loose-group", "other-class-mentor-in-own-group"],
)
async def test_koppel_with_a_leaked_mentor_code_is_refused(h: Harness, who: str) -> None:
    """/koppel links a group only for a mentor of the code's class: a leaked PW3A mentor code
    does not let anyone else take over the team's alerts or re-link a group."""
    w = await two_classes(h)
    code = await h.code(w.a, "mentor")
    user, chat = {
        "student-in-loose-group": (w.anna, w.loose_group),
        "stranger-in-loose-group": (w.stranger, w.loose_group),
        "other-class-mentor-in-own-group": (w.olga, w.group_b),
    }[who]
    before = await db_state(h)
    if user is w.anna:  # a student in any group is sent to the private chat first
        assert "privégesprek" in (await h.say(user, f"/koppel {code}", chat=chat)).text
    else:
        reply = await h.say(user, f"/koppel {code}", chat=chat)
        assert "Alleen een mentor" in reply.text and "PW3A" not in reply.text
    assert changes(before, await db_state(h)) == {}


OBSERVER_ONLY = "Dat commando is alleen voor leden van de regiegroep."


async def test_observer_trends_is_refused_to_others_and_shows_only_followed_classes(
    h: Harness,
) -> None:
    assert observer_handlers(), "/trends is registered"
    w = await two_classes(h)
    regie = h.api.add_user("Regie")
    await h.api.add_member_to_group(regie, w.group_b)
    async with h.db.transaction() as s:  # an observer of PW3B only
        await MemberRepo(s).add_active(
            w.b, "observer", name="Regie", telegram_user_id=regie.id, chat_id=regie.id,
            consent_version=None, now=week_time(2),
        )  # fmt: skip
    before = await db_state(h)
    for user, chat in (
        (w.anna, None),
        (w.stranger, None),
        (w.marit, None),
        (w.marit, w.group_a),
        (w.stranger, w.loose_group),
    ):
        reply = await h.say(user, "/trends", chat=chat)
        assert reply.text == OBSERVER_ONLY, (user.first_name, chat, reply.text)
    in_group = await h.say(regie, "/trends", chat=w.group_b)  # figures only in private
    assert in_group.text == "Dat commando werkt alleen in een privégesprek met mij."
    mark = h.api.mark(regie)
    await h.api.send_text(regie, "/trends")
    report = await h.api.wait_for_message(regie, since=mark)
    seen = visible(report)
    assert "PW3B" in seen and "PW3A" not in seen, seen
    assert not any(name in seen for name in (*w.a_names, "Zara Visser")), seen
    assert changes(before, await db_state(h)) == {}


async def test_koppel_does_not_take_over_another_classes_group(h: Harness) -> None:
    w = await two_classes(h)
    code = await h.code(w.a, "mentor")
    before = await db_state(h)
    reply = await h.say(w.marit, f"/koppel {code}", chat=w.group_b)
    assert "gekoppeld" not in reply.text, reply.text
    assert changes(before, await db_state(h)) == {}
    gaps = await h.say(w.olga, "/gaten", chat=w.group_b)
    assert "PW3B" in gaps.text and not any(name in gaps.text for name in w.a_names)


NOT_ENROLLED = "Ik ken je nog niet."


async def test_student_commands_tell_mentors_and_observers_they_are_for_students(
    h: Harness,
) -> None:
    w = await two_classes(h)
    regie = h.api.add_user("Regie")
    async with h.db.transaction() as s:
        await MemberRepo(s).add_active(
            w.a, "observer", name="Regie", telegram_user_id=regie.id, chat_id=regie.id,
            consent_version=None, now=week_time(2),
        )  # fmt: skip
    before = await db_state(h)
    for user in (w.marit, regie):
        for command in ("/mijngegevens", "/stop", "/status", "/verder", "/vraag Mag ik ruilen?"):
            reply = await h.say(user, command)
            assert not reply.text.startswith((NOT_ENROLLED, MENTOR_ONLY)), (command, reply.text)
            assert "student" in reply.text.lower(), (command, reply.text)
    assert changes(before, await db_state(h)) == {}


async def test_a_students_own_data_names_nobody_else(h: Harness) -> None:
    """/mijngegevens: Anna gets her answers, her question and the alert about her,
    and nothing of her classmates or of the other class."""
    w = await two_classes(h)
    mark = h.api.mark(w.anna)
    await h.api.send_text(w.anna, "/mijngegevens")
    reply = await h.api.wait_for_message(w.anna, lambda m: m.document is not None, since=mark)
    assert reply.document is not None
    data = reply.document.data.decode("utf-8")
    assert "een kind huilde" in data and "Mag ik ruilen?" in data  # her own words
    for other in ("Bram", "Cem", "Zara", "PW3B", "Olga"):
        assert other not in data, other
    status = await h.say(w.anna, "/status")
    assert not any(other in status.text for other in ("Bram", "Cem", "Zara"))
