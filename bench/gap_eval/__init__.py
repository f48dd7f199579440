"""Gap evaluation at scale: the alert check that runs after one completed reflection.

10,000 students × 40 weeks (400 cohorts of 25; about 2.5 million answers, and the
werkbegeleiders' weekly observations: about 1.3 million rows) are written straight into the
tables, on SQLite and on PostgreSQL. Then, for ≥ 200 sampled cohorts, one more
student completes the open week-40 reflection (untimed) and the check that the bot runs next
(`Services.evaluate_alerts`: `bot.loop.followup.check_alerts`, one read and a transaction only
to write) is timed.

Side by side: the same evaluation when nothing about the cohort was evaluated before in this
process (`cold`: what an instance pays for the first answer of a cohort after a start, and
what a round closing pays) and the warm per-answer path. Target: per-answer p99 < 5 ms.

    .venv/bin/python -m bench.gap_eval [--cohorts 400] [--sampled 60] [--answers 4]
        [--backend sqlite|postgres|both]
"""
