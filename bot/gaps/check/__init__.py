"""The per-answer gap check: the cohort's closed rounds cached in process, the rules re-run
only for the students and skills an answer changed (same findings as a full evaluation).

The check after each completed reflection (`bot.gaps.alerts.evaluate_cohort`) must stay fast for
a cohort with a year of answers. Answers change only in open rounds (`checkin.save_choice`
refuses closed ones), so the closed rounds' part of the snapshot — and the werkbegeleiders'
taps of closed observation rounds, and the students — is kept per cohort and reused while
the cohort row and its change counter (`cohorts.data_version`, bumped by database triggers
on whatever can change the kept part: retention, erasure, a round closing, a member leaving;
migration 0008) are unchanged; only the open rounds are read each time. Counter, open rows
and the unresolved alerts come in one statement (`storage.repos.gap_query`): statements, not
rows, cost. The rules are then run per student (student gaps, declines, silences look at
one student's answers only) and per skill (class gaps look at one skill's answers only),
each again only when its part of the snapshot changed. The findings are those of
`gaps.evaluate` on the whole snapshot (bench/gap_eval/ checks that on 400 cohorts).

`incremental` holds the check itself (`GapCheck`: per student, per skill, the whole cohort,
and whether a student gap waits for its class); `load` reads what it needs from the database
(`gap_check`: one statement while the closed rounds are cached)."""

from bot.gaps.check.incremental import GapCheck
from bot.gaps.check.load import gap_check

__all__ = ["GapCheck", "gap_check"]
