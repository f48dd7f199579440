"""How the simulated people use the bot: through the sandbox, exactly like Telegram users."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.demo.cast import Student
from bot.plans import Plan
from bot.texts import t
from tgsandbox import SandboxServer, SandboxUser, SentMessage

WAIT = 30.0  # seconds: generous, a slow machine must not break the demo


def _asked(message: SentMessage) -> str:
    """The message without the confirmation a typed answer's reply starts with."""
    text = message.text or ""
    first, _, rest = text.partition("\n\n")
    confirmations = {t(key, "nl") for key in ("answer.saved", "answer.changed", "answer.unchanged")}
    return rest if first in confirmations else text


def is_question(message: SentMessage) -> bool:
    text = _asked(message)
    return (
        text.startswith(("Vraag ", "🪞"))
        and " van " in text
        and bool(message.buttons() or "✍️" in text)
    )


def is_done(message: SentMessage) -> bool:
    return _asked(message).startswith("Klaar, dank je wel")


@dataclass
class Transcript:
    """One chat as a reader sees it: who said what, in order."""

    title: str
    lines: list[str] = field(default_factory=list)

    def bot(self, message: SentMessage) -> None:
        body = message.text or message.caption or f"[{message.kind}]"
        if message.photo is not None:
            body = f"[afbeelding: grafiek]\n{body}"
        if message.document is not None:
            body = f"[bestand: {message.document.filename}]\n{body}"
        buttons = [b["text"] for b in message.buttons()]
        block = f"**mentorbot**\n{body}"
        if buttons:
            block += "\n" + " ".join(f"[{b}]" for b in buttons)
        self.lines.append(block)

    def user(self, name: str, action: str) -> None:
        self.lines.append(f"**{name}**\n{action}")

    def render(self) -> str:
        return f"# {self.title}\n\n" + "\n\n".join(self.lines) + "\n"


class Person:
    """A simulated user with an optional transcript of their private chat."""

    def __init__(
        self, api: SandboxServer, user: SandboxUser, transcript: Transcript | None
    ) -> None:
        self.api, self.user, self.transcript = api, user, transcript

    async def next_message(self, predicate, since: int | None = None) -> SentMessage:  # type: ignore[no-untyped-def]
        message = await self.api.wait_for_message(self.user, predicate, timeout=WAIT, since=since)
        if self.transcript is not None:
            self.transcript.bot(message)
        return message

    async def say(self, text: str) -> None:
        if self.transcript is not None:
            self.transcript.user(self.user.first_name, text)
        await self.api.send_text(self.user, text)

    async def tap(self, message: SentMessage, label: str) -> None:
        if self.transcript is not None:
            self.transcript.user(self.user.first_name, f"(tikt op [{label}])")
        await self.api.press(self.user, message, label)

    async def join(self, code: str, agree: bool = True) -> None:
        mark = self.api.mark(self.user)
        await self.say(f"/start {code}")
        consent = await self.next_message(None, since=mark)
        if consent.buttons():
            mark = self.api.mark(self.user)
            await self.tap(consent, consent.buttons()[0 if agree else 1]["text"])
            await self.next_message(None, since=mark)


class SimulatedStudent(Person):
    def __init__(
        self, api: SandboxServer, user: SandboxUser, who: Student, transcript: Transcript | None
    ) -> None:
        super().__init__(api, user, transcript)
        self.who = who

    async def read_expectations(self, week: int) -> None:
        message = await self.next_message(lambda m: f"Week {week}:" in (m.text or ""))
        if self.who.pattern == "asks" and week == 1:
            mark = self.api.mark(self.user)
            await self.tap(message, "Vraag hierover")
            prompt = await self.next_message(None, since=mark)
            await self.reply(
                prompt, "Moet ik het observatieverslag ook aan mijn werkbegeleider laten zien?"
            )
            await self.next_message(
                lambda m: "naar je mentorteam gestuurd" in (m.text or ""), since=mark
            )
        elif self.who.pattern != "silent":
            await self.tap(message, "Begrepen")

    async def reply(self, to: SentMessage, text: str) -> None:
        if self.transcript is not None:
            self.transcript.user(self.user.first_name, text)
        await self.api.send_text(self.user, text, reply_to=to)

    async def reflect(self, plan: Plan, week: int, stop_after: int | None = None) -> int:
        """Answer the reflection questions; returns how many were answered."""
        message = await self.next_message(is_question)
        answered = 0
        while not is_done(message) and (stop_after is None or answered < stop_after):
            mark = self.api.mark(self.user)
            await self.answer(plan, week, message)
            answered += 1
            message = await self.next_message(lambda m: is_question(m) or is_done(m), since=mark)
        return answered

    async def resume(self, plan: Plan, week: int) -> None:
        reminder = await self.next_message(lambda m: "nog niet af" in (m.text or ""))
        mark = self.api.mark(self.user)
        await self.tap(reminder, "Verder")
        message = await self.next_message(is_question, since=mark)
        while not is_done(message):
            mark = self.api.mark(self.user)
            await self.answer(plan, week, message)
            message = await self.next_message(lambda m: is_question(m) or is_done(m), since=mark)

    async def answer(self, plan: Plan, week: int, question: SentMessage) -> None:
        labels = [b["text"] for b in question.buttons()]
        text = question.text or ""
        if "Afspraak met je mentorteam" in text:  # the agreement's follow-up
            await self.tap(question, "Deels")
            return
        if "iets over vertellen" in text:
            mark = self.api.mark(self.user)
            await self.say("Ik heb het één keer gevraagd; de tweede keer was het te druk.")
            await self.next_message(lambda m: "Opgeslagen" in (m.text or ""), since=mark)
            return
        if "1" in labels:
            skill = next(s for s in plan.week(week).focus_skills if f"„{s.label}”" in text)
            await self.tap(question, str(self.who.rating(skill.key, week)))
        elif "Waar wil je hulp bij?" in text:
            focus = [s.key for s in plan.week(week).focus_skills]
            wanted = self.who.wants_help_with(focus)
            await self.tap(
                question, plan.skill(wanted).label if wanted else t("question.none_option", "nl")
            )
        elif labels and labels != ["Overslaan"]:
            await self.tap(question, labels[1 if self.who.pattern == "weak" else 0])
        else:
            mark = self.api.mark(self.user)
            await self.say(self.who.starr())
            await self.next_message(lambda m: "Opgeslagen" in (m.text or ""), since=mark)


def is_request(message: SentMessage, week: int, student: str) -> bool:
    """An observation request (a skill, a shared agreement's follow-up, or the optional line)
    about `student` in `week`."""
    text = message.text or ""
    asked = f"Week {week} · {student} · vaardigheid" in text or is_agreement(message, student)
    return (asked and bool(message.buttons())) or f"Nog iets kwijt over {student}?" in text


def is_agreement(message: SentMessage, student: str) -> bool:
    """The follow-up question of an agreement shared with the werkbegeleider."""
    text = message.text or ""
    return text.startswith(f"De afspraak met {student.split()[0]}:") and bool(message.buttons())


class SimulatedWerkbegeleider(Person):
    """A werkbegeleider who joins with the students' links and taps the week's skills."""

    def __init__(
        self,
        api: SandboxServer,
        user: SandboxUser,
        students: list[Student],
        transcript: Transcript | None,
    ) -> None:
        super().__init__(api, user, transcript)
        self.students = students

    async def observe(self, plan: Plan, week: int, since: int) -> None:
        """Each supervised student in turn: a level per skill, then Klaar (or a line)."""
        by_title: dict[str, str] = {str(skill.title): skill.key for skill in plan.skills}
        for who in self.students:
            name = who.name
            message = await self.next_message(
                lambda m, name=name: is_request(m, week, name), since=since
            )
            while "Nog iets kwijt" not in (message.text or ""):
                title = (message.text or "").split("\n\n", 1)[-1].split("\n", 1)[0]
                mark = self.api.mark(self.user)
                if is_agreement(message, name):  # the agreement worked at the stage too
                    await self.tap(message, "Gelukt")
                else:
                    await self.tap(message, who.observed(by_title.get(title, title), week))
                message = await self.next_message(
                    lambda m, name=name: is_request(m, week, name), since=mark
                )
            if who.weak_skill and week == 2:
                mark = self.api.mark(self.user)
                await self.say(f"{who.name.split()[0]} vindt overleggen met collega's nog lastig.")
                await self.next_message(lambda m: "Opgeslagen" in (m.text or ""), since=mark)
            else:
                await self.tap(message, "Klaar")
        await self.next_message(lambda m: "Alles van week" in (m.text or ""), since=since)
