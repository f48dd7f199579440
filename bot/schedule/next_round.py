"""When the next round of a cohort comes, in words a student understands."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.schedule.timespec import WeeklyTime, parse_weekly
from bot.texts import t
from storage.records import CohortRecord

WEEKDAYS = {
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS = {
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}  # fmt: skip


def next_occurrence(when: WeeklyTime, zone: ZoneInfo, now: datetime) -> datetime:
    """The next local wall-clock time `when` strictly after `now`, as an aware datetime."""
    local = now.astimezone(zone)
    days_ahead = (when.weekday - local.weekday()) % 7
    candidate_day = local.date() + timedelta(days=days_ahead)
    for extra in (0, 7):
        day = candidate_day + timedelta(days=extra)
        candidate = datetime(day.year, day.month, day.day, when.hour, when.minute, tzinfo=zone)
        if candidate > local:
            return candidate
    raise AssertionError("unreachable: a week always holds the next occurrence")


def format_moment(moment: datetime, lang: str) -> str:
    """ "maandag 1 december om 08:00" / "Monday 1 December at 08:00"."""
    lang = lang if lang in WEEKDAYS else "nl"
    day = WEEKDAYS[lang][moment.weekday()]
    month = MONTHS[lang][moment.month - 1]
    joiner = "om" if lang == "nl" else "at"
    return f"{day} {moment.day} {month} {joiner} {moment:%H:%M}"


def weekly_phrase(spec: str, lang: str) -> str:
    """ "vrijdag om 14:00" / "Friday at 14:00" for a cohort's weekly time such as "fri 14:00"."""
    lang = lang if lang in WEEKDAYS else "nl"
    when = parse_weekly(spec)
    joiner = "om" if lang == "nl" else "at"
    return f"{WEEKDAYS[lang][when.weekday]} {joiner} {when.hour:02d}:{when.minute:02d}"


def next_round_phrase(cohort: CohortRecord, lang: str, now: datetime) -> str:
    """One sentence naming the next expectations or reflection round of the cohort, seen at
    `now` (the bot's clock: the demo's and the tests' clocks are not the wall clock)."""
    zone = ZoneInfo(cohort.timezone)
    moments = [
        next_occurrence(parse_weekly(spec), zone, now)
        for spec in (cohort.expectations_at, cohort.reflection_at)
    ]
    start = datetime(
        cohort.start_date.year, cohort.start_date.month, cohort.start_date.day, tzinfo=zone
    )
    upcoming = min(m for m in moments) if start <= now else start
    return t("input.next_round_at", lang, when=format_moment(upcoming, lang))
