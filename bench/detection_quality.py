"""Detection quality of the gap rules on synthetic cohorts, beside the best possible rule.

Runs the default rules through the real ``bot.gaps.rules.evaluate`` and
``bot.gaps.lifecycle.decide`` week by week on the same seeded cohorts twice: hearing the
students only ("self-only") and with their werkbegeleiders' observations ("two-source"). The
mentors acknowledge every alert in the week it arrives (the worst case for re-raises). Beside
each figure: the ceiling, the best recall any rule could reach on the same answers at that
precision (``bench.detection_ceiling``). Over several seeds; the last line is one JSON object.

    python bench/detection_quality.py                  # 3 seeds × 60 cohorts
    python bench/detection_quality.py --quick          # 3 seeds × 8 cohorts, a smoke run
    python bench/detection_quality.py --seeds 7,8      # the tuning seeds
    python bench/detection_quality.py --with-baseline  # the SPEC starting rules as well
    python bench/detection_quality.py --help-scale 1 --inflated 0   # the earlier scenario

The model and the ground truth: bench/detection_model.py and docs/gap-rules.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.detection_ceiling import TAUS, Ceiling, sweep
from bench.detection_model import (
    INFLATED,
    SIGMA,
    WEEKS,
    WORK_SIGMA,
    Cohort,
    episodes,
    judge,
    make_cohort,
)
from bot.gaps.lifecycle import AlertState, Raise, Reraise, acknowledge, apply, decide
from bot.gaps.rules import (
    CohortAnswers,
    GapSettings,
    HelpRequest,
    RatingAnswer,
    WorkplaceObservation,
    evaluate,
    folded_students,
    ok_streaks,
)

MENTORS = 2
KINDS = ("student_gap", "blind_spot", "class_gap", "silence", "decline")
STUDENT_KINDS = ("student_gap", "blind_spot")  # both tell that a student is weak on a skill
# name -> (settings, hears the workplace)
RULES: dict[str, tuple[GapSettings, bool]] = {
    "self-only": (GapSettings(), False),
    "two-source": (GapSettings(), True),
}
BASELINE = ("baseline", (GapSettings.spec_baseline(), False))


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
    """Mark every gap that an unresolved alert names this week (folded students and blind
    spots count for the student's gap on the skill)."""
    for st in states:
        if st.status == "resolved":
            continue
        kind, sid, skill = st.fingerprint.split(":", 2)
        key = (kind, None if sid == "-" else int(sid), None if skill == "-" else skill)
        run.covered[key].add(w)
        if kind == "blind_spot":
            run.covered[("student_gap", key[1], key[2])].add(w)
        f = findings.get(st.fingerprint)
        if kind == "class_gap" and f is not None:
            for s in folded_students(f):
                run.covered[("student_gap", s, key[2])].add(w)


def run_rule(c: Cohort, settings: GapSettings, two_views: bool) -> Run:
    """Week by week: evaluate, decide, send, and let the mentors acknowledge everything."""
    run, states = Run(), []
    ratings: list[RatingAnswer] = []
    helps: list[HelpRequest] = []
    seen: list[WorkplaceObservation] = []
    for w in range(WEEKS):
        ratings += c.ratings[w]
        helps += c.helps[w]
        if two_views:
            seen += c.observations[w]
        data = CohortAnswers(
            tuple(c.rounds[: w + 1]), tuple(ratings), tuple(helps), (), tuple(seen)
        )
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


# ----------------------------------------------------------------------------- scoring


def _blank() -> dict:
    return {
        "tp": 0, "fp": 0, "grey": 0, "eligible": 0, "detected": 0, "by4": 0, "delays": [],
        "messages": 0, "raises": 0, "new_tp": 0, "new_fp": 0,
    }  # fmt: skip


def score(c: Cohort, run: Run) -> dict:
    """Counts per kind for one cohort and one rule; ``student`` pools the student kinds."""
    out = {k: _blank() for k in (*KINDS, "student")}
    weekly = [0] * WEEKS
    for w, kind, sid, skill, names, again in run.events:
        verdict = judge(c, w, kind, sid, skill)
        for row in (kind, "student") if kind in STUDENT_KINDS else (kind,):
            out[row][verdict] += 1
            out[row]["messages"] += 1
            if not again:
                out[row]["raises"] += 1
                if verdict != "grey":
                    out[row][f"new_{verdict}"] += 1
        weekly[w] += 1
        for s in names:  # a folded student is named in the class alert: judged as her own
            out["student"][judge(c, w, "student_gap", s, skill)] += 1
    for kind, key, a, b, weeks in episodes(c):
        rows = (kind, "student") if kind == "student_gap" else (kind,)
        hits = sorted(w for w in run.covered.get(key, ()) if a <= w <= b)
        for row in rows:
            st = out[row]
            st["eligible"] += 1
            if not hits:
                continue
            st["detected"] += 1
            if len(weeks) >= 4 and hits[0] <= weeks[3]:
                st["by4"] += 1
            if hits[0] > a or (a - 1) not in run.covered.get(key, ()):
                st["delays"].append(sum(1 for w in weeks if w <= hits[0]))
    return {"kinds": out, "weekly": weekly}


def one_cohort(seed: int, args: dict) -> dict:
    """Every rule and both ceilings on one cohort."""
    c = make_cohort(seed, args["sigma"], args["help_scale"], args["inflated"], args["work_sigma"])
    out: dict = {"rules": {}, "ceiling": {}}
    for name, (settings, two_views) in args["rules"].items():
        out["rules"][name] = score(c, run_rule(c, settings, two_views))
    ceiling = Ceiling(args["sigma"], args["work_sigma"], args["inflated"])
    for name, two_views in (("self-only", False), ("two-source", True)):
        out["ceiling"][name] = sweep(c, ceiling, two_views)
    return out


# ----------------------------------------------------------------------------- report


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def summarise(results: list[dict], name: str) -> dict:
    """Pool the per-cohort counts of one rule into the reported figures."""
    mentor_weeks = len(results) * WEEKS * MENTORS
    rows: dict[str, dict] = {}
    for kind in (*KINDS, "student"):
        st = _blank()
        for r in results:
            for key, val in r["rules"][name]["kinds"][kind].items():
                st[key] += val
        rows[kind] = {
            "recall": _ratio(st["detected"], st["eligible"]),
            "recall_by_4th_ask": _ratio(st["by4"], st["eligible"]),
            "precision": _ratio(st["tp"], st["tp"] + st["fp"]),
            "precision_new": _ratio(st["new_tp"], st["new_tp"] + st["new_fp"]),
            "median_delay": statistics.median(st["delays"]) if st["delays"] else None,
            "alerts_per_mentor_week": round(st["messages"] / mentor_weeks, 3),
            "new_alerts_per_mentor_week": round(st["raises"] / mentor_weeks, 3),
            "true_gaps": st["eligible"],
            "messages_tp_fp_grey": [st["tp"], st["fp"], st["grey"]],
        }
    weekly = sorted(n / MENTORS for r in results for n in r["rules"][name]["weekly"])
    messages = sum(n for r in results for n in r["rules"][name]["weekly"])
    rows["all"] = {
        "alerts_per_mentor_week": round(messages / mentor_weeks, 3),
        "p95_alerts_per_mentor_week": weekly[int(0.95 * (len(weekly) - 1))],
    }
    return rows


def ceiling_at(results: list[dict], views: str, precision: float) -> dict:
    """The ceiling's best recall by the 4th ask at new-alert precision >= ``precision``."""
    best: dict = {"precision": None, "recall": None, "recall_by_4th_ask": None, "tau": None}
    for tau in TAUS:
        st = _blank()
        for r in results:
            for key, val in r["ceiling"][views][tau].items():
                st[key] += val
        prec = _ratio(st["tp"], st["tp"] + st["fp"])
        by4 = _ratio(st["by4"], st["eligible"])
        if prec is None or prec < precision or by4 is None:
            continue
        if best["recall_by_4th_ask"] is None or by4 > best["recall_by_4th_ask"]:
            best = {
                "tau": tau,
                "precision": prec,
                "recall": _ratio(st["detected"], st["eligible"]),
                "recall_by_4th_ask": by4,
                "median_delay": statistics.median(st["delays"]) if st["delays"] else None,
                "new_alerts_per_mentor_week": round(
                    (st["tp"] + st["fp"] + st["grey"]) / (len(results) * WEEKS * MENTORS), 3
                ),
            }
    return best


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def print_tables(summary: dict, ceilings: dict) -> None:
    for name, rows in summary.items():
        print(f"\n{name}")
        head = ("kind", "recall", "by 4th", "precision", "prec.new", "median", "alerts/m/wk")
        widths = (12, 7, 7, 9, 8, 7, 11)
        cells = " ".join(f"{h:<{w}}" if i == 0 else f"{h:>{w}}" for i, (h, w) in
                         enumerate(zip(head, widths, strict=True)))  # fmt: skip
        print(f"{cells} {'true gaps':>9}  messages tp/fp/grey")
        for kind, r in rows.items():
            if kind == "all":
                continue
            print(
                f"{kind:<12} {_cell(r['recall']):>7} {_cell(r['recall_by_4th_ask']):>7} "
                f"{_cell(r['precision']):>9} {_cell(r['precision_new']):>8} "
                f"{_cell(r['median_delay']):>7} {r['alerts_per_mentor_week']:>11.2f} "
                f"{r['true_gaps']:>9}  {'/'.join(map(str, r['messages_tp_fp_grey']))}"
            )
        a = rows["all"]
        print(f"all kinds: {a['alerts_per_mentor_week']:.2f} alerts per mentor per week "
              f"(p95 week {a['p95_alerts_per_mentor_week']})")  # fmt: skip
    print("\nceiling (student gaps, new alerts), best recall by the 4th ask at precision >= p")
    for key, c in ceilings.items():
        print(f"{key:<28} τ={_cell(c['tau'])} precision {_cell(c['precision'])} recall "
              f"{_cell(c['recall'])} by 4th {_cell(c['recall_by_4th_ask'])} median "
              f"{_cell(c.get('median_delay'))}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=60, help="cohorts per seed")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--quick", action="store_true", help="8 cohorts per seed")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sigma", type=float, default=SIGMA, help="self-rating noise")
    parser.add_argument("--work-sigma", type=float, default=WORK_SIGMA)
    parser.add_argument("--help-scale", type=float, default=0.0, help="× help-request rates")
    parser.add_argument("--inflated", type=float, default=INFLATED)
    parser.add_argument("--with-baseline", action="store_true")
    parser.add_argument(
        "--set", default="{}", help='settings for both rules, JSON: {"evidence_threshold": 4}'
    )
    args = parser.parse_args()
    n = 8 if args.quick else args.cohorts
    seeds = [int(s) for s in args.seeds.split(",")]
    changed = json.loads(args.set)
    rules = {name: (s.model_copy(update=changed), two) for name, (s, two) in RULES.items()}
    if args.with_baseline:
        rules[BASELINE[0]] = BASELINE[1]
    shared = {"sigma": args.sigma, "work_sigma": args.work_sigma, "help_scale": args.help_scale,
              "inflated": args.inflated, "rules": rules}  # fmt: skip
    started = time.perf_counter()
    jobs = [(seed * 1_000_003 + i, shared) for seed in seeds for i in range(n)]
    with Pool(args.workers) as pool:
        results = pool.starmap(one_cohort, jobs, chunksize=1)
    summary = {name: summarise(results, name) for name in rules}
    ceilings = {}
    for views in ("self-only", "two-source"):
        own = summary[views]["student"]["precision_new"] or 0.0
        for p in sorted({0.85, 0.9, round(own, 3)}):
            ceilings[f"{views} at {p:.3f}"] = ceiling_at(results, views, p)
    per_seed = {
        seed: {name: summarise(results[i * n : (i + 1) * n], name)["student"] for name in rules}
        for i, seed in enumerate(seeds)
    }
    print(f"{len(seeds)} seeds × {n} cohorts, σ = {args.sigma}, workplace σ = {args.work_sigma}, "
          f"help requests × {args.help_scale}, inflated {args.inflated}, "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    print_tables(summary, ceilings)
    for seed, rows in per_seed.items():
        cells = "; ".join(f"{name}: recall by 4th {_cell(r['recall_by_4th_ask'])}, prec.new "
                          f"{_cell(r['precision_new'])}" for name, r in rows.items())  # fmt: skip
        print(f"seed {seed}: {cells}")
    head = {
        "seeds": seeds,
        "cohorts_per_seed": n,
        **{k: v for k, v in shared.items() if k != "rules"},
    }
    print(json.dumps({**head, "rules": summary, "ceiling": ceilings, "per_seed": per_seed}))


if __name__ == "__main__":
    main()
