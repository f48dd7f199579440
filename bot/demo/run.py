"""The demo run: a sandbox Bot API server, a SQLite file, a class of 25 and its mentor team,
three weeks on an accelerated clock, all through the production code paths (CLI services,
scheduler, outbox, handlers, alerts, digest)."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from bot.app.application import build_application
from bot.app.embedded import running
from bot.demo.cast import WERKBEGELEIDERS, cast
from bot.demo.plan import demo_plan, demo_plan_text
from bot.demo.simulate import Person, SimulatedStudent, SimulatedWerkbegeleider, Transcript
from bot.loop.agreements import FOLLOW_UP_SETTING
from bot.people.admin import create_cohort, import_roster, make_invites
from bot.runtime.config import Settings
from bot.schedule.clock import FakeClock
from storage import migrate
from storage.db import Database
from storage.repos import CohortRepo
from storage.repos.alerts import AlertRepo
from storage.repos.outbox import OutboxRepo
from tgsandbox import SandboxChat, SandboxServer, SentMessage

ZONE = ZoneInfo("Europe/Amsterdam")
START = date(2026, 9, 7)  # a Monday
COHORT = "PW3A demo"
TIMES = {"expectations_at": "mon 08:00", "reflection_at": "fri 14:00",
         "reminder_at": "sun 18:00", "digest_at": "mon 07:00",
         "observation_at": "fri 16:00"}  # fmt: skip


@dataclass
class DemoResult:
    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    alerts: int = 0
    answers: int = 0
    violations: list[str] = field(default_factory=list)
    # (kind, student name or None for the class, skill, week raised, times raised, status)
    raised: list[tuple[str, str | None, str | None, int, int, str]] = field(default_factory=list)


Step = Callable[[str], None]


async def run_demo(
    out_dir: Path, *, weeks: int = 3, seed: int = 7, step: Step = print
) -> DemoResult:
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mentorbot-demo-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"
        async with SandboxServer() as api:
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None,
                TELEGRAM_BOT_TOKEN=SecretStr(api.token),
                TELEGRAM_API_BASE_URL=api.base_url,
                DATABASE_URL=url,
                MENTORBOT_BOT_USERNAME=api.bot().user.username,
                # weeks pass in seconds here: the per-user flood limit is for real-time use
                MENTORBOT_FLOOD_PER_SECOND=100,
                MENTORBOT_FLOOD_BURST=100,
            )
            result = await _run(api, settings, out_dir, weeks, seed, step)
            result.violations = list(api.violations)
    return result


async def _run(
    api: SandboxServer, settings: Settings, out_dir: Path, weeks: int, seed: int, step: Step
) -> DemoResult:
    step("database and class set up (mentorbot migrate, cohort create, students import)")
    clock = FakeClock(datetime.combine(START - timedelta(days=1), time(12), ZONE))
    codes, mentor_codes = await _set_up(settings.database_url, clock.now())
    application = build_application(settings, migrate_on_start=False, clock=clock, scheduler=False)
    result = DemoResult(out_dir)
    async with running(application):
        services = application.bot_data.live()
        people = cast(seed)
        anna_log = Transcript(f"Chat van {people[0].name} met mentorbot")
        students = []
        for index, who in enumerate(people):
            first, _, last = who.name.partition(" ")
            user = api.add_user(first, last or None)
            student = SimulatedStudent(api, user, who, anna_log if index == 0 else None)
            students.append(student)
        step("25 students join with their personal codes and agree")
        await asyncio.gather(*(s.join(code) for s, code in zip(students, codes, strict=True)))
        step("students send /werkbegeleider; their werkbegeleiders open the link and agree")
        workplace_log = Transcript("Chat van werkbegeleider Marloes Bakker met mentorbot")
        werkbegeleiders = await _link_werkbegeleiders(api, students, workplace_log)
        mentors = [Person(api, api.add_user(n, None), None) for n in ("Saskia", "Mehmet")]
        for mentor, code in zip(mentors, mentor_codes, strict=True):
            await mentor.join(code)
        group = api.add_group("Mentorteam PW3A")
        for mentor in mentors:
            await api.add_member_to_group(mentor.user, group)
        mark = api.mark(group)
        await api.send_text(mentors[0].user, f"/koppel {mentor_codes[0]}", chat=group)
        await api.wait_for_message(group, since=mark, timeout=30)
        plan = demo_plan()

        for week in range(1, weeks + 1):
            monday = START + timedelta(weeks=week - 1)
            step(f"week {week}: Monday 08:00, the expectations go out")
            await services.scheduler.advance_to(_at(monday, 8, 5))
            await asyncio.gather(*(s.read_expectations(week) for s in students))
            step(f"week {week}: Friday 14:00, the reflection; students answer")
            await services.scheduler.advance_to(_at(monday + timedelta(days=4), 14, 5))
            answering = [s for s in students if s.who.answers_reflection(week)]
            await asyncio.gather(
                *(
                    s.reflect(plan, week, 2 if s.who.pattern == "halfway" else None)
                    for s in answering
                )
            )
            step(f"week {week}: Friday 16:00, the werkbegeleiders observe the week's skills")
            marks = [api.mark(w.user) for w in werkbegeleiders]
            await services.scheduler.advance_to(_at(monday + timedelta(days=4), 16, 5))
            await asyncio.gather(
                *(w.observe(plan, week, m) for w, m in zip(werkbegeleiders, marks, strict=True))
            )
            if week == 2:  # her gap alerts at her 2nd ask: one bad week is no signal
                step("week 2: the mentor team makes a learning agreement with Anna")
                await _agreement(api, mentors[0], group, students[0])
            step(f"week {week}: Sunday 18:00, reminders to who is not finished")
            await services.scheduler.advance_to(_at(monday + timedelta(days=6), 18, 5))
            halfway = [s for s in students if s.who.pattern == "halfway"]
            await asyncio.gather(*(s.resume(plan, week) for s in halfway))
        step("Monday 07:00 after the last week: the mentor digest")
        await services.scheduler.advance_to(_at(START + timedelta(weeks=weeks), 7, 5))
        await _all_delivered(services.db)  # the last alerts and the digest are in the group
        await _mentor_reads(api, mentors[0], group)
        step("the mentor asks for the chart and the CSV export")
        files = await _mentor_downloads(api, mentors[0], out_dir)
        result.files.update(files)
        result.raised = await _alerts_raised(services.db)
    result.files["student"] = _write(out_dir / "transcript-student.md", anna_log.render())
    result.files["werkbegeleider"] = _write(
        out_dir / "transcript-werkbegeleider.md", workplace_log.render()
    )
    result.files["mentors"] = _write(
        out_dir / "transcript-mentorteam.md", _group_log(api, group.id)
    )
    result.alerts = sum(
        "⚠️" in (m.text or "") or "Signaal" in (m.text or "") for m in api.messages(group)
    )
    return result


async def _link_werkbegeleiders(
    api: SandboxServer, students: list[SimulatedStudent], log: Transcript
) -> list[SimulatedWerkbegeleider]:
    """Each featured student makes a link with /werkbegeleider; their werkbegeleider joins."""
    joined = []
    for index, (first, last, mine) in enumerate(WERKBEGELEIDERS):
        user = api.add_user(first, last)
        person = SimulatedWerkbegeleider(
            api, user, [students[i].who for i in mine], log if index == 0 else None
        )
        for i in mine:
            mark = api.mark(students[i].user)
            await students[i].say("/werkbegeleider")
            forward = await students[i].next_message(
                lambda m: "start=" in (m.text or ""), since=mark
            )
            code = (forward.text or "").rsplit("start=", 1)[1].split()[0]
            await person.join(code)
        joined.append(person)
    return joined


async def _all_delivered(db: Database, limit: float = 180.0) -> None:
    """Wait until the outbox holds nothing to send (the demo reads the chats afterwards).

    The team's group takes 20 messages a minute; with the alerts now in weeks 2 and 3 and the
    agreement in week 2, the last weeks' digests (text, agenda, progress, chart) can queue
    behind them for more than a minute of real time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        async with db.transaction() as session:
            counts = await OutboxRepo(session).stats()
        waiting = counts["pending"] + counts["sending"]
        if not waiting:
            return
        await asyncio.sleep(0.1)  # the sender works on its own; look again shortly
    raise TimeoutError("the outbox did not drain within the demo's time")


async def _set_up(url: str, now: datetime) -> tuple[list[str], list[str]]:
    await migrate.upgrade(url)
    db = Database(url)
    try:
        cohort = await create_cohort(
            db, COHORT, START, "Europe/Amsterdam", dict(TIMES), demo_plan_text()
        )
        async with db.transaction() as session:  # an agreement's follow-up: one week on
            settings = {**cohort.gap_settings, FOLLOW_UP_SETTING: 1}
            await CohortRepo(session).update_settings(cohort.id, gap_settings=settings)
        from bot.demo.cast import NAMES

        roster = "naam,organisatie\n" + "".join(f"{n},KDV De Regenboog\n" for n in NAMES)
        invited = await import_roster(db, COHORT, roster.encode(), None, now)
        mentors = await make_invites(db, COHORT, "mentor", 2, None, False, now)
    finally:
        await db.dispose()
    return [i.invite.code for i in invited], [i.invite.code for i in mentors]


async def _alerts_raised(db: Database) -> list[tuple[str, str | None, str | None, int, int, str]]:
    """Every alert the run raised, as the mentor team saw it (for the 8-week test)."""
    async with db.transaction() as session:
        raised = await AlertRepo(session).raised()
    return [(a.kind, a.student, a.skill, a.week, a.times_raised, a.status) for a in raised]


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), ZONE)


async def _mentor_reads(api: SandboxServer, mentor: Person, group: object) -> None:
    """The mentor acknowledges the first alert and puts the second on the agenda."""
    alerts = [m for m in api.messages(group) if any(b["text"] == "Gezien" for b in m.buttons())]  # type: ignore[arg-type]
    for message, label in zip(alerts[:2], ("Gezien", "Bespreken"), strict=False):
        query = await api.press(mentor.user, message, label)
        await api.wait_for_callback_answer(query, timeout=30)


AGREEMENT = "Anna vraagt deze week haar werkbegeleider om één tip bij het samenwerken."


async def _agreement(
    api: SandboxServer, mentor: Person, group: SandboxChat, anna: SimulatedStudent
) -> None:
    """Afspraak under Anna's alert in the team's group, the line as a reply, the default week;
    Anna reads it (her follow-up question comes with next week's reflection)."""
    alert = await api.wait_for_message(
        group, lambda m: any(b["text"] == "Afspraak" for b in m.buttons())
        and "Anna de Vries" in (m.text or ""), timeout=30, since=0,
    )  # fmt: skip
    mark = api.mark(group)
    query = await api.press(mentor.user, alert, "Afspraak")
    await api.wait_for_callback_answer(query, timeout=30)
    ask = await api.wait_for_message(group, lambda m: "✍️" in (m.text or ""), since=mark)
    mark = api.mark(group)
    await api.send_text(mentor.user, AGREEMENT, chat=group, reply_to=ask)
    weeks = await api.wait_for_message(group, lambda m: bool(m.buttons()), since=mark, timeout=30)
    default = next(b["text"] for b in weeks.buttons() if b["text"].endswith("✓"))
    query = await api.press(mentor.user, weeks, default)
    await api.wait_for_callback_answer(query, timeout=30)
    await anna.next_message(lambda m: "Afspraak met je mentorteam" in (m.text or ""))


async def _mentor_downloads(api: SandboxServer, mentor: Person, out_dir: Path) -> dict[str, Path]:
    files = {}
    for command, kind, names in (
        ("/grafiek", "photo", ("grafiek.png", "grafiek-beide-blikken.png")),
        ("/export", "document", ("export.csv",)),
    ):
        mark = api.mark(mentor.user)
        await api.send_text(mentor.user, command)
        for name in names:  # /grafiek: the heat map, then both views per skill
            sent: SentMessage = await api.wait_for_message(
                mentor.user, _has(kind), since=mark, timeout=60
            )
            mark = api.messages(mentor.user).index(sent) + 1
            stored = sent.photo if kind == "photo" else sent.document
            assert stored is not None
            files[name] = out_dir / name
            files[name].write_bytes(stored.data)
    return files


def _has(kind: str) -> Callable[[SentMessage], bool]:
    return lambda message: getattr(message, kind) is not None


def _group_log(api: SandboxServer, chat_id: int) -> str:
    log = Transcript("De groep van het mentorteam")
    for message in api.messages(chat_id):
        log.bot(message)
    return log.render()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
