"""Detection quality of the gap rules on synthetic cohorts (SPEC §5 targets).

Runs the SPEC baseline (``GapSettings.spec_baseline()``) and the default improved rules
side by side on the same seeded cohorts, through the real ``bot.gaps.rules.evaluate`` and
``bot.gaps.lifecycle.decide`` week by week, with mentors who acknowledge every alert in the
week it arrives (the worst case for re-raises). Prints recall, precision, median delay and
alerts per mentor per week, per kind and overall, then one JSON line.

    python bench/detection_quality.py            # 200 cohorts × 25 students × 9 skills × 40 weeks
    python bench/detection_quality.py --quick    # 24 cohorts, a smoke run
    python bench/detection_quality.py --seed 7   # the tuning seeds were 7 and 8; reported: 1
    python bench/detection_quality.py --sigma 1.0 --help-scale 0   # robustness

The model and the ground truth are documented in docs/gap-rules.md.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.gaps.lifecycle import AlertState, Raise, Reraise, acknowledge, apply, decide
from bot.gaps.rules import (
    CohortAnswers,
    GapSettings,
    HelpRequest,
    RatingAnswer,
    ReflectionRound,
    evaluate,
    folded_students,
    ok_streaks,
)

STUDENTS, SKILLS, WEEKS, PER_WEEK = 25, 9, 40, 3
SIGMA = 0.8  # --sigma changes it (robustness: the rules were tuned for 0.8)
MENTORS = 2
WEAK, OK_LEVEL = 2.0, 3.0  # student truth: <= 2.0 gap, >= 3.0 no gap, between: grey
CLASS_WEAK, CLASS_OK = 2.5, 3.0  # class truth on the class mean of true levels
KINDS = ("student_gap", "class_gap", "silence", "decline")
RULES = {"baseline": GapSettings.spec_baseline(), "improved": GapSettings()}


# ----------------------------------------------------------------------------- the cohort model


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


def make_cohort(seed: int, sigma: float = SIGMA, help_scale: float = 1.0) -> Cohort:
    """One synthetic class, fully determined by its arguments."""
    rng = random.Random(seed)
    level, declines, grey = _trajectories(rng, _base_levels(rng))
    silent, miss = _silences(rng)
    c = Cohort(level, silent, declines, grey)
    everyone = frozenset(range(STUDENTS))
    for w in range(WEEKS):
        asked = tuple(f"skill{(PER_WEEK * (w % 3) + i)}" for i in range(PER_WEEK))
        ks = [int(a[5:]) for a in asked]
        answered = {s for s in range(STUDENTS) if not silent[w][s] and rng.random() >= miss[s]}
        c.rounds.append(ReflectionRound(w + 1, asked, everyone, frozenset(answered)))
        ratings, helps = [], []
        for s in sorted(answered):
            for k, name in zip(ks, asked, strict=True):
                true = level[w][s][k]
                rating = min(5, max(1, round(true + rng.gauss(0, sigma))))
                ratings.append(RatingAnswer(s, w + 1, name, rating))
                if rng.random() < help_scale * _help_probability(true):
                    helps.append(HelpRequest(s, w + 1, name))
        c.ratings.append(ratings)
        c.helps.append(helps)
    return c


# ----------------------------------------------------------------------------- running the rules


@dataclass
class Run:
    """What one rule did on one cohort: its messages and, per gap, the weeks it was covered."""

    events: list[tuple[int, str, int | None, str | None, tuple[int, ...], bool]] = field(
        default_factory=list
    )  # (week index, kind, student, skill, folded students, is a re-raise)
    covered: dict[tuple[str, int | None, str | None], set[int]] = field(
        default_factory=lambda: defaultdict(set)
    )


def _cover(run: Run, w: int, states: list[AlertState], findings: dict) -> None:
    """Mark every gap that an unresolved alert names this week (folded students included)."""
    for st in states:
        if st.status == "resolved":
            continue
        kind, sid, skill = st.fingerprint.split(":", 2)
        key = (kind, None if sid == "-" else int(sid), None if skill == "-" else skill)
        run.covered[key].add(w)
        f = findings.get(st.fingerprint)
        if kind == "class_gap" and f is not None:
            for s in folded_students(f):
                run.covered[("student_gap", s, key[2])].add(w)


def run_rule(c: Cohort, settings: GapSettings) -> Run:
    """Week by week: evaluate, decide, send, and let the mentors acknowledge everything."""
    run, states = Run(), []
    ratings: list[RatingAnswer] = []
    helps: list[HelpRequest] = []
    for w in range(WEEKS):
        ratings += c.ratings[w]
        helps += c.helps[w]
        data = CohortAnswers(tuple(c.rounds[: w + 1]), tuple(ratings), tuple(helps))
        findings = evaluate(data, settings)
        unresolved = [st.fingerprint for st in states if st.status != "resolved"]
        oks = ok_streaks(unresolved, data, settings)
        actions = decide(states, findings, w, oks)
        states = apply(states, actions, w, oks)
        for a in actions:
            if isinstance(a, Raise | Reraise):
                f = a.finding
                names = tuple(folded_students(f))
                run.events.append((w, f.kind, f.student_id, f.skill, names, isinstance(a, Reraise)))
        states = [acknowledge(st, w) if st.status == "open" else st for st in states]
        _cover(run, w, states, {f.fingerprint: f for f in findings})
    return run


# ----------------------------------------------------------------------------- ground truth


def _class_mean(c: Cohort, w: int, k: int) -> float:
    return statistics.fmean(c.level[w][s][k] for s in range(STUDENTS))


def judge(c: Cohort, w: int, kind: str, sid: int | None, skill: str | None) -> str:
    """'tp', 'fp' or 'grey' for a message sent after round ``w``."""
    if kind == "student_gap" and sid is not None and skill is not None:
        x = c.level[w][sid][int(skill[5:])]
        return "tp" if x <= WEAK else "fp" if x >= OK_LEVEL else "grey"
    if kind == "class_gap" and skill is not None:
        x = _class_mean(c, w, int(skill[5:]))
        return "tp" if x <= CLASS_WEAK else "fp" if x >= CLASS_OK else "grey"
    if kind == "silence" and sid is not None:
        return "tp" if c.silent[w][sid] else "fp"
    assert sid is not None
    if w >= c.decline_week.get(sid, WEEKS):
        return "tp"
    return "grey" if w >= c.decline_grey.get(sid, WEEKS) else "fp"


def _intervals(flags: list[bool]) -> list[tuple[int, int]]:
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
        flags = [_class_mean(c, w, k) <= CLASS_WEAK for w in range(WEEKS)]
        for a, b in _intervals(flags):
            weeks = [w for w in range(a, b + 1) if k in asked[w]]
            if len(weeks) >= 3:
                out.append(("class_gap", ("class_gap", None, f"skill{k}"), a, b, weeks))
        for s in range(STUDENTS):
            flags = [c.level[w][s][k] <= WEAK for w in range(WEEKS)]
            for a, b in _intervals(flags):
                weeks = [
                    w for w in range(a, b + 1) if k in asked[w] and s in c.rounds[w].respondents
                ]
                if len(weeks) >= 4:
                    out.append(("student_gap", ("student_gap", s, f"skill{k}"), a, b, weeks))
    for s in range(STUDENTS):
        for a, b in _intervals([c.silent[w][s] for w in range(WEEKS)]):
            if b - a + 1 >= 4:
                out.append(("silence", ("silence", s, None), a, b, list(range(a, b + 1))))
        if s in c.decline_week:
            a = c.decline_week[s]
            weeks = [w for w in range(a, WEEKS) if s in c.rounds[w].respondents]
            if len(weeks) >= 6:
                out.append(("decline", ("decline", s, None), a, WEEKS - 1, weeks))
    return out


# ----------------------------------------------------------------------------- scoring


def _blank() -> dict:
    return {
        "tp": 0, "fp": 0, "grey": 0, "eligible": 0, "detected": 0, "delays": [],
        "messages": 0, "raises": 0, "new_tp": 0, "new_fp": 0,
    }  # fmt: skip


def score(c: Cohort, run: Run) -> dict:
    """Counts per kind for one cohort and one rule."""
    out = {k: _blank() for k in KINDS}
    weekly = [0] * WEEKS
    folded = {"tp": 0, "fp": 0, "grey": 0}
    for w, kind, sid, skill, names, again in run.events:
        verdict = judge(c, w, kind, sid, skill)
        out[kind][verdict] += 1
        out[kind]["messages"] += 1
        weekly[w] += 1
        if not again:
            out[kind]["raises"] += 1
            if verdict != "grey":
                out[kind][f"new_{verdict}"] += 1
        for s in names:
            folded[judge(c, w, "student_gap", s, skill)] += 1
    for kind, key, a, b, weeks in episodes(c):
        st = out[kind]
        st["eligible"] += 1
        hits = sorted(w for w in run.covered.get(key, ()) if a <= w <= b)
        if not hits:
            continue
        st["detected"] += 1
        if hits[0] > a or (a - 1) not in run.covered.get(key, ()):
            st["delays"].append(sum(1 for w in weeks if w <= hits[0]))
    return {"kinds": out, "weekly": weekly, "folded": folded}


def one_cohort(seed: int, sigma: float = SIGMA, help_scale: float = 1.0) -> dict:
    """Both rules on one cohort."""
    c = make_cohort(seed, sigma, help_scale)
    return {name: score(c, run_rule(c, settings)) for name, settings in RULES.items()}


# ----------------------------------------------------------------------------- report


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def summarise(results: list[dict], name: str) -> dict:
    """Pool the per-cohort counts of one rule into the reported figures."""
    mentor_weeks = len(results) * WEEKS * MENTORS
    rows: dict[str, dict] = {}
    total = _blank()
    for kind in (*KINDS, "overall"):
        if kind == "overall":
            st = total
        else:
            st = _blank()
            for r in results:
                for key, val in r[name]["kinds"][kind].items():
                    st[key] += val
            for key in st:
                total[key] += st[key]
        rows[kind] = {
            "recall": _ratio(st["detected"], st["eligible"]),
            "precision": _ratio(st["tp"], st["tp"] + st["fp"]),
            "precision_new": _ratio(st["new_tp"], st["new_tp"] + st["new_fp"]),
            "median_delay": statistics.median(st["delays"]) if st["delays"] else None,
            "alerts_per_mentor_week": round(st["messages"] / mentor_weeks, 3),
            "new_alerts_per_mentor_week": round(st["raises"] / mentor_weeks, 3),
            "true_gaps": st["eligible"],
            "messages_tp_fp_grey": [st["tp"], st["fp"], st["grey"]],
        }
    gap_delays = [
        d
        for r in results
        for k in ("student_gap", "class_gap")
        for d in r[name]["kinds"][k]["delays"]
    ]
    weekly = sorted(n / MENTORS for r in results for n in r[name]["weekly"])
    folded = [sum(r[name]["folded"][k] for r in results) for k in ("tp", "fp", "grey")]
    rows["overall"]["median_asks_gaps"] = statistics.median(gap_delays) if gap_delays else None
    rows["overall"]["p95_alerts_per_mentor_week"] = weekly[int(0.95 * (len(weekly) - 1))]
    rows["overall"]["folded_names_tp_fp_grey"] = folded
    return rows


def print_table(name: str, rows: dict) -> None:
    print(f"\n{name}")
    print(f"{'kind':<12} {'recall':>7} {'precision':>9} {'prec.new':>8} {'median':>7} "
          f"{'alerts/m/wk':>11} {'new/m/wk':>9} {'true gaps':>9}  messages tp/fp/grey")  # fmt: skip
    for kind, r in rows.items():
        cells = [
            "-" if r["recall"] is None else f"{r['recall']:.3f}",
            "-" if r["precision"] is None else f"{r['precision']:.3f}",
            "-" if r["precision_new"] is None else f"{r['precision_new']:.3f}",
            "-" if r["median_delay"] is None else f"{r['median_delay']:g}",
        ]
        print(
            f"{kind:<12} {cells[0]:>7} {cells[1]:>9} {cells[2]:>8} {cells[3]:>7} "
            f"{r['alerts_per_mentor_week']:>11.2f} {r['new_alerts_per_mentor_week']:>9.2f} "
            f"{r['true_gaps']:>9}  {'/'.join(map(str, r['messages_tp_fp_grey']))}"
        )
    o = rows["overall"]
    print(
        f"median asks of the skill before a gap alert: {o['median_asks_gaps']}; "
        f"p95 alerts per mentor in a week: {o['p95_alerts_per_mentor_week']}; "
        f"folded student names tp/fp/grey: {'/'.join(map(str, o['folded_names_tp_fp_grey']))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="24 cohorts")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sigma", type=float, default=SIGMA, help="rating noise (default 0.8)")
    parser.add_argument("--help-scale", type=float, default=1.0, help="× help-request rates")
    args = parser.parse_args()
    n = 24 if args.quick else args.cohorts
    seeds = [args.seed * 1_000_003 + i for i in range(n)]
    started = time.perf_counter()
    with Pool(args.workers) as pool:
        jobs = [(seed, args.sigma, args.help_scale) for seed in seeds]
        results = pool.starmap(one_cohort, jobs, chunksize=1)
    summary = {name: summarise(results, name) for name in RULES}
    print(f"{n} cohorts × {STUDENTS} students × {SKILLS} skills × {WEEKS} weeks, "
          f"σ = {args.sigma}, help requests × {args.help_scale}, seed {args.seed}, "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    for name, rows in summary.items():
        print_table(name, rows)
    ratios = {
        kind: {
            metric: _ratio(summary["improved"][kind][metric] or 0, val)
            for metric, val in summary["baseline"][kind].items()
            if isinstance(val, int | float) and not isinstance(val, bool)
        }
        for kind in summary["baseline"]
    }
    head = {"cohorts": n, "seed": args.seed, "sigma": args.sigma, "help_scale": args.help_scale}
    print(json.dumps({**head, **summary, "improved_over_baseline": ratios}))


if __name__ == "__main__":
    main()
