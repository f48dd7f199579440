"""The best possible rule on the same generated data: the benchmark's ceiling.

For every student and skill, after every week with evidence, the posterior probability that
the student is weak on the skill (true level <= 2.0), computed with the generator's own model:
its prior of levels, the noise of a self-rating (σ), the share of students who rate
themselves a point too high, and (two views) the werkbegeleider's noise and cut points. It
looks at the same window as the rules (the last 4 weeks with evidence), so a gap that went
away is judged on now. An alert is the first week the posterior reaches τ; sweeping τ gives
the best recall any rule could reach from those answers at a given precision.

It knows what no rule in production knows (the generator's exact noise and priors), and it
ignores what the rules cannot use either (which skill the whole class finds hard, who will
improve). numpy only here: the rules themselves stay in the standard library.
"""

from __future__ import annotations

import math

import numpy as np

from bench.detection_model import (
    INFLATED,
    PER_WEEK,
    SKILLS,
    STUDENTS,
    WEAK,
    WEEKS,
    WORK_CUTS,
    Cohort,
    episodes,
    judge,
)

GRID = np.round(np.arange(1.0, 5.0001, 0.05), 2)
TAUS = (
    0.1,
    0.15,
    0.2,
    0.25,
    0.3,
    0.35,
    0.4,
    0.45,
    0.5,
    0.6,
    0.7,
    0.75,
    0.8,
    0.85,
    0.9,
    0.93,
    0.95,
    0.97,
    0.98,
    0.99,
)
WINDOW = 4
_SD_LEVELS = math.hypot(0.55, 0.3)  # level spread around 3.5 with the student offset
_HAS_WEAK_ELSEWHERE = 1 - 0.9 ** (SKILLS - 1)


def _phi(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def _prior() -> np.ndarray:
    weak = np.where(GRID <= WEAK, 0.10 / (np.sum(GRID <= WEAK)), 0.0)
    ok = np.where(GRID > WEAK, np.exp(-0.5 * ((GRID - 3.5) / _SD_LEVELS) ** 2), 0.0)
    return weak + 0.90 * ok / ok.sum()


def _rating_table(sigma: float) -> np.ndarray:
    """P(rating r | level, inflated b) as [b][r-1][grid]."""
    edges = [-np.inf, 1.5, 2.5, 3.5, 4.5, np.inf]
    plain = np.array([_phi((edges[i + 1] - GRID) / sigma) - _phi((edges[i] - GRID) / sigma)
                      for i in range(5)])  # fmt: skip
    lifted = np.zeros_like(plain)
    lifted[1:] = plain[:-1]
    lifted[4] += plain[4]  # a 5 stays a 5
    return np.array([plain, lifted])


def _observation_table(sigma: float) -> np.ndarray:
    """P(observation o | level) as [o][grid]."""
    edges = [-np.inf, *WORK_CUTS, np.inf]
    return np.array([_phi((edges[i + 1] - GRID) / sigma) - _phi((edges[i] - GRID) / sigma)
                     for i in range(4)])  # fmt: skip


class Ceiling:
    """The posterior of "weak" for one benchmark configuration (noise levels fixed)."""

    def __init__(self, sigma: float, work_sigma: float, inflated: float = INFLATED) -> None:
        self.prior = _prior()
        self.ratings = _rating_table(sigma)
        self.seen = _observation_table(work_sigma)
        p_weak = inflated
        p_ok = inflated * _HAS_WEAK_ELSEWHERE
        self.p_inflated = np.where(GRID <= WEAK, p_weak, p_ok)
        self.weak = GRID <= WEAK

    def posterior(self, window: list[tuple[int | None, int | None]]) -> float:
        """P(weak | the (rating, observation) pairs of the window)."""
        plain = self.prior * (1 - self.p_inflated)
        lifted = self.prior * self.p_inflated
        for rating, tap in window:
            if rating is not None:
                plain = plain * self.ratings[0][rating - 1]
                lifted = lifted * self.ratings[1][rating - 1]
            if tap is not None:
                plain = plain * self.seen[tap]
                lifted = lifted * self.seen[tap]
        both = plain + lifted
        total = both.sum()
        return float(both[self.weak].sum() / total) if total > 0 else 0.0


def _evidence(
    c: Cohort, two_views: bool
) -> dict[tuple[int, int], list[tuple[int, int | None, int | None]]]:
    """Per student and skill: (week index, rating, observation) for weeks with evidence."""
    out: dict[tuple[int, int], list[tuple[int, int | None, int | None]]] = {}
    for w in range(WEEKS):
        rated = {(r.student_id, int(r.skill[5:])): r.rating for r in c.ratings[w]}
        seen = (
            {(o.student_id, int(o.skill[5:])): o.level for o in c.observations[w]}
            if two_views
            else {}
        )
        for key in sorted(set(rated) | set(seen)):
            out.setdefault(key, []).append((w, rated.get(key), seen.get(key)))
    return out


def sweep(c: Cohort, ceiling: Ceiling, two_views: bool) -> dict[float, dict[str, object]]:
    """For each τ: new alerts right/wrong/grey, episodes found (by the 4th ask, at all), delays."""
    flags: dict[tuple[int, int], list[tuple[int, float]]] = {}
    for key, series in _evidence(c, two_views).items():
        posts = []
        for i, (w, _r, _o) in enumerate(series):
            window = [(r, o) for _w, r, o in series[max(0, i + 1 - WINDOW) : i + 1]]
            posts.append((w, ceiling.posterior(window)))
        flags[key] = posts
    student_episodes = [e for e in episodes(c) if e[0] == "student_gap"]
    out: dict[float, dict[str, object]] = {}
    for tau in TAUS:
        st = {"tp": 0, "fp": 0, "grey": 0, "eligible": 0, "detected": 0, "by4": 0, "delays": []}
        hot: dict[tuple[int, int], set[int]] = {}
        for (s, k), posts in flags.items():
            was = False
            for w, p in posts:
                now = p >= tau
                if now:
                    hot.setdefault((s, k), set()).add(w)
                    if not was:
                        st[judge(c, w, "student_gap", s, f"skill{k}")] += 1  # type: ignore[operator]
                was = now
        for _kind, (_k, s, skill), a, b, weeks in student_episodes:
            st["eligible"] += 1  # type: ignore[operator]
            hits = sorted(w for w in hot.get((s, int(skill[5:])), ()) if a <= w <= b)
            if not hits:
                continue
            st["detected"] += 1  # type: ignore[operator]
            if hits[0] <= weeks[3]:
                st["by4"] += 1  # type: ignore[operator]
            st["delays"].append(sum(1 for w in weeks if w <= hits[0]))  # type: ignore[attr-defined]
        out[tau] = st
    return out


ASKS_PER_SKILL = WEEKS // (SKILLS // PER_WEEK)  # for the docs: about 13 in 40 weeks
__all__ = ["STUDENTS", "TAUS", "Ceiling", "sweep"]
