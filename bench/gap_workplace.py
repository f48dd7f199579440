"""The workplace's view for `bench/gap_eval/`: werkbegeleiders, their links and a weekly
observation round with a tap per supervised student and asked skill, written with the rest.

Without it the gap check's read of the observations is not measured (docs/benchmarks.md §3):
a werkbegeleider who taps every week leaves ~3,500 rows per cohort of 25 over 40 weeks."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from bench._common import _NAIVE_START, USER_ID_BASE, Generated, Rows, Shape

PER_WERKBEGELEIDER = 5  # students each supervises
NOT_SEEN = 0.1  # share of taps that are "niet gezien" (stored, never evidence)
NOTE_SKILL = "__note__"  # as storage.repos.observations.NOTE_SKILL


def _level(rating_mean: float, rng: random.Random) -> int:
    """A werkbegeleider's level 0..3 around the student's own 1..5 level."""
    return max(0, min(3, round((rating_mean - 1) * 3 / 4 + rng.gauss(0, 0.6))))


def add_workplace(gen: Generated, tables: Rows, shape: Shape) -> None:
    """Append werkbegeleiders, supervisions, observation rounds and observations to `tables`
    (ids after the generated ones); week `shape.weeks` is open and half of it observed, the
    rest pending in `gen.pending_observed` (cohort -> students) for the timed loop."""
    from bot.plans import default_plan

    plan = default_plan()
    skills = {w: _rating_skills(plan, w) for w in range(1, shape.weeks + 1)}
    rng = random.Random(shape.seed + 1)
    next_member = max(r[0] for r in tables["members"]) + 1
    next_round = max(r[0] for r in tables["rounds"]) + 1
    obs_id = link_id = 0
    members, users, rounds = tables["members"], tables["user_settings"], tables["rounds"]
    links: list[tuple[Any, ...]] = []
    observations: list[tuple[Any, ...]] = []
    supervisor: dict[int, int] = {}
    for c in gen.cohort_ids:
        studs = gen.students[c]
        for i in range(0, len(studs), PER_WERKBEGELEIDER):
            wb, next_member = next_member, next_member + 1
            uid = USER_ID_BASE + wb
            members.append((wb, c, "werkbegeleider", f"Werkbegeleider {c}-{i:02d}", "Kinderopvang",
                            uid, uid, "active", _NAIVE_START, "bench", _NAIVE_START,
                            _NAIVE_START))  # fmt: skip
            users.append((uid, "nl", _NAIVE_START))
            for sid in studs[i : i + PER_WERKBEGELEIDER]:
                link_id += 1
                links.append((link_id, c, wb, sid, _NAIVE_START, None))
                supervisor[sid] = wb
        level = {sid: rng.gauss(3.4, 0.4) for sid in studs}
        pending = set(gen.pending.get(c, ()))
        for week in range(1, shape.weeks + 1):
            due = _NAIVE_START + timedelta(weeks=week - 1, hours=2)
            is_open = week == shape.weeks
            round_id, next_round = next_round, next_round + 1
            closed = None if is_open else due + timedelta(days=7)
            rounds.append((round_id, c, week, "observation", "open" if is_open else "closed",
                           due, None, closed, due))  # fmt: skip
            if is_open:
                gen.open_observation[c] = round_id
            for sid in studs:
                if (is_open and sid in pending) or rng.random() < 0.1:
                    continue  # not observed (yet)
                for skill in skills[week]:
                    obs_id += 1
                    lvl = None if rng.random() < NOT_SEEN else _level(level[sid], rng)
                    observations.append((obs_id, round_id, supervisor[sid], sid, skill, lvl,
                                         None, due, due))  # fmt: skip
                if rng.random() < 0.2:
                    obs_id += 1
                    observations.append((obs_id, round_id, supervisor[sid], sid, NOTE_SKILL,
                                         None, "Gaat goed met de peuters.", due, due))  # fmt: skip
    gen.supervisor = supervisor
    tables["supervisions"] = links
    tables["observations"] = observations
    gen.counts.update(members=len(members), rounds=len(rounds), supervisions=len(links),
                      observations=len(observations))  # fmt: skip


def _rating_skills(plan: Any, week: int) -> list[str]:
    """The skills of the week's rating questions: what the observation round asks."""
    keys = [q.skill for q in plan.week(week).questions if q.kind == "rating" and q.skill]
    return list(dict.fromkeys(keys))
