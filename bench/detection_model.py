"""The synthetic cohorts of the detection benchmark, and their ground truth.

A class of 25 students, 9 skills, 40 weekly rounds asking 3 skills each (every skill every
third week: 3–4 asks in ten weeks, as the default plan). Each student has a werkbegeleider
who observes the week's skills on the four-point scale (nooit, oefenen, voldoende, goed) from
the same latent level with noise of her own, and leaves weeks and skills unobserved. A share
of the students with a weak skill rate themselves a point too high. docs/gap-rules.md
("Synthetic cohorts") documents every number.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field

from bot.gaps.rules import HelpRequest, RatingAnswer, ReflectionRound, WorkplaceObservation

STUDENTS, SKILLS, WEEKS, PER_WEEK = 25, 9, 40, 3
SIGMA = 0.8  # noise of a self-rating on the 1–5 scale
WORK_SIGMA = 0.6  # noise of the werkbegeleider's view of the same latent level
WORK_CUTS = (1.5, 2.5, 3.5)  # latent level -> nooit | oefenen | voldoende | goed
WORK_MISSING_WEEK = 0.25  # the werkbegeleider answers no observation round that week
WORK_NOT_SEEN = 0.15  # "niet gezien" on one skill in a week she answered
INFLATED = 0.30  # share of the students with a weak skill who rate themselves +1
WEAK, OK_LEVEL = 2.0, 3.0  # student truth: <= 2.0 gap, >= 3.0 no gap, between: grey
CLASS_WEAK, CLASS_OK = 2.5, 3.0  # class truth on the class mean of true levels


@dataclass
class Cohort:
    """True levels per week, latent silences and declines, and the answers they produce."""

    level: list[list[list[float]]]  # [week][student][skill]
    silent: list[list[bool]]  # [week][student]: in a latent silent phase
    decline_week: dict[int, int]  # student -> first week of a drop >= 1.0
    decline_grey: dict[int, int]  # student -> first week of a drop between 0.5 and 1.0
    rounds: list[ReflectionRound] = field(default_factory=list)
    ratings: list[list[RatingAnswer]] = field(default_factory=list)  # per week
    helps: list[list[HelpRequest]] = field(default_factory=list)
    observations: list[list[WorkplaceObservation]] = field(default_factory=list)  # per week
    inflated: frozenset[int] = frozenset()  # students who rate themselves a point too high


def _base_levels(rng: random.Random) -> list[list[float]]:
    """~10 % weak pairs U(1, 2); the rest N(3.5 + student offset, 0.55) above 2.0."""
    levels = []
    for _ in range(STUDENTS):
        offset = rng.gauss(0, 0.3)
        row = []
        for _ in range(SKILLS):
            if rng.random() < 0.10:
                row.append(rng.uniform(1.0, 2.0))
                continue
            x = 0.0
            while not 2.0 < x <= 5.0:
                x = rng.gauss(3.5 + offset, 0.55)
            row.append(x)
        levels.append(row)
    if rng.random() < 0.4:  # a skill the whole class finds hard
        k = rng.randrange(SKILLS)
        for row in levels:
            row[k] = max(1.0, row[k] - 1.3)
    return levels


def _trajectories(
    rng: random.Random, base: list[list[float]]
) -> tuple[list[list[list[float]]], dict[int, int], dict[int, int]]:
    """Levels per week: improving weak pairs, declining students, small dips (negatives)."""
    level = [[row[:] for row in base] for _ in range(WEEKS)]
    for s in range(STUDENTS):
        for k in range(SKILLS):
            if base[s][k] <= WEAK and rng.random() < 0.3:  # improves over 3 weeks
                start, goal = rng.randint(8, 30), rng.uniform(3.0, 3.8)
                for w in range(start, WEEKS):
                    frac = min(1.0, (w - start + 1) / 3)
                    level[w][s][k] = base[s][k] + frac * (goal - base[s][k])
    declines: dict[int, int] = {}
    grey: dict[int, int] = {}
    for s in range(STUDENTS):
        u = rng.random()
        drop = rng.uniform(1.0, 2.0) if u < 0.08 else rng.uniform(0.2, 0.5) if u < 0.16 else 0
        if not drop:
            continue
        start = rng.randint(12, 30)
        for w in range(start, WEEKS):
            level[w][s] = [max(1.0, x - drop) for x in level[w][s]]
        real = statistics.fmean(level[start - 1][s]) - statistics.fmean(level[start][s])
        if real >= 1.0:
            declines[s] = start
        elif real > 0.5:  # clipping at 1 ate part of the drop: neither a decline nor not
            grey[s] = start
    return level, declines, grey


def _silences(rng: random.Random) -> tuple[list[list[bool]], list[float]]:
    """Latent silent phases (8 % of students, some never come back; 2 % never start)."""
    silent = [[False] * STUDENTS for _ in range(WEEKS)]
    miss = [0.20 if rng.random() < 0.25 else 0.05 for _ in range(STUDENTS)]
    for s in range(STUDENTS):
        u = rng.random()
        if u < 0.02:
            start, end = 0, WEEKS
        elif u < 0.10:
            start = rng.randint(6, 36)
            end = WEEKS if rng.random() < 0.5 else start + rng.randint(3, 8)
        else:
            continue
        for w in range(start, min(end, WEEKS)):
            silent[w][s] = True
    return silent, miss


def _help_probability(level: float) -> float:
    """Weak students often ask for help on their weak skill; others rarely."""
    return 0.35 if level <= WEAK else 0.12 if level < OK_LEVEL else 0.04


def observe(level: float, rng: random.Random, sigma: float = WORK_SIGMA) -> int:
    """The werkbegeleider's tap for a student at ``level``: 0 nooit … 3 goed."""
    seen = level + rng.gauss(0, sigma)
    return sum(seen >= cut for cut in WORK_CUTS)


def make_cohort(
    seed: int,
    sigma: float = SIGMA,
    help_scale: float = 0.0,
    inflated_share: float = INFLATED,
    work_sigma: float = WORK_SIGMA,
) -> Cohort:
    """One synthetic class, fully determined by its arguments.

    The werkbegeleiders and the inflation draw from a second generator, so the levels,
    silences and (uninflated) ratings of a seed are those of the self-only benchmark."""
    rng = random.Random(seed)
    work = random.Random(seed * 7919 + 1)
    level, declines, grey = _trajectories(rng, _base_levels(rng))
    silent, miss = _silences(rng)
    weak_somewhere = [s for s in range(STUDENTS) if any(x <= WEAK for x in level[0][s])]
    inflated = frozenset(s for s in weak_somewhere if work.random() < inflated_share)
    c = Cohort(level, silent, declines, grey, inflated=inflated)
    everyone = frozenset(range(STUDENTS))
    for w in range(WEEKS):
        asked = tuple(f"skill{(PER_WEEK * (w % 3) + i)}" for i in range(PER_WEEK))
        ks = [int(a[5:]) for a in asked]
        answered = {s for s in range(STUDENTS) if not silent[w][s] and rng.random() >= miss[s]}
        c.rounds.append(ReflectionRound(w + 1, asked, everyone, frozenset(answered)))
        ratings, helps, seen = [], [], []
        for s in sorted(answered):
            for k, name in zip(ks, asked, strict=True):
                true = level[w][s][k]
                rating = min(5, max(1, round(true + rng.gauss(0, sigma))))
                if s in inflated:
                    rating = min(5, rating + 1)
                ratings.append(RatingAnswer(s, w + 1, name, rating))
                if rng.random() < help_scale * _help_probability(true):
                    helps.append(HelpRequest(s, w + 1, name))
        for s in range(STUDENTS):  # the workplace sees silent students work too
            if work.random() < WORK_MISSING_WEEK:
                continue
            for k, name in zip(ks, asked, strict=True):
                if work.random() >= WORK_NOT_SEEN:
                    tap = observe(level[w][s][k], work, work_sigma)
                    seen.append(WorkplaceObservation(s, w + 1, name, tap, 1000 + s))
        c.ratings.append(ratings)
        c.helps.append(helps)
        c.observations.append(seen)
    return c


# ----------------------------------------------------------------------------- ground truth


def class_mean(c: Cohort, w: int, k: int) -> float:
    return statistics.fmean(c.level[w][s][k] for s in range(STUDENTS))


def judge(c: Cohort, w: int, kind: str, sid: int | None, skill: str | None) -> str:
    """'tp', 'fp' or 'grey' for a message sent after round ``w``. A blind spot is right when
    the student is weak on the skill (she rates herself high, so no student gap shows)."""
    if kind in ("student_gap", "blind_spot") and sid is not None and skill is not None:
        x = c.level[w][sid][int(skill[5:])]
        return "tp" if x <= WEAK else "fp" if x >= OK_LEVEL else "grey"
    if kind == "class_gap" and skill is not None:
        x = class_mean(c, w, int(skill[5:]))
        return "tp" if x <= CLASS_WEAK else "fp" if x >= CLASS_OK else "grey"
    if kind == "silence" and sid is not None:
        return "tp" if c.silent[w][sid] else "fp"
    assert sid is not None
    if w >= c.decline_week.get(sid, WEEKS):
        return "tp"
    return "grey" if w >= c.decline_grey.get(sid, WEEKS) else "fp"


def intervals(flags: list[bool]) -> list[tuple[int, int]]:
    """Maximal runs of True as (first, last) week indices."""
    out, start = [], None
    for w, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = w
        elif not flag and start is not None:
            out.append((start, w - 1))
            start = None
    return out


def episodes(c: Cohort) -> list[tuple[str, tuple, int, int, list[int]]]:
    """True gaps worth finding: (kind, key, first week, last week, weeks that count as asks).

    A student gap counts when the student answered >= 4 asks of the skill during it, a class
    gap when the skill was asked >= 3 times during it, a silence when it lasted >= 4 rounds;
    a decline when the student answered >= 6 rounds after the drop. Delays count those asks
    (rounds for silences and declines).
    """
    out = []
    asked = [{int(n[5:]) for n in r.skills} for r in c.rounds]
    for k in range(SKILLS):
        flags = [class_mean(c, w, k) <= CLASS_WEAK for w in range(WEEKS)]
        for a, b in intervals(flags):
            weeks = [w for w in range(a, b + 1) if k in asked[w]]
            if len(weeks) >= 3:
                out.append(("class_gap", ("class_gap", None, f"skill{k}"), a, b, weeks))
        for s in range(STUDENTS):
            flags = [c.level[w][s][k] <= WEAK for w in range(WEEKS)]
            for a, b in intervals(flags):
                weeks = [
                    w for w in range(a, b + 1) if k in asked[w] and s in c.rounds[w].respondents
                ]
                if len(weeks) >= 4:
                    out.append(("student_gap", ("student_gap", s, f"skill{k}"), a, b, weeks))
    for s in range(STUDENTS):
        for a, b in intervals([c.silent[w][s] for w in range(WEEKS)]):
            if b - a + 1 >= 4:
                out.append(("silence", ("silence", s, None), a, b, list(range(a, b + 1))))
        if s in c.decline_week:
            a = c.decline_week[s]
            weeks = [w for w in range(a, WEEKS) if s in c.rounds[w].respondents]
            if len(weeks) >= 6:
                out.append(("decline", ("decline", s, None), a, WEEKS - 1, weeks))
    return out
