"""Alerts told to the mentor team, and the audit log of what mentors did with them.

`open_key` holds the fingerprint while an alert is not resolved: the unique constraint
(cohort_id, open_key) lets one gap be open at most once per cohort, also when two instances
evaluate the same cohort at the same moment.

- `repo`: `AlertRepo` (reads, the mentors' buttons, the alert check's writes) and `AuditRepo`;
- `statements`: the alert check's writes, each built once per dialect.
"""

from storage.repos.alerts.repo import AlertRepo, AuditRepo

# `alerts.resolution` of a gap resolved after a learning agreement (bot.loop.followup)
AFTER_AGREEMENT = "after_agreement"

__all__ = ["AFTER_AGREEMENT", "AlertRepo", "AuditRepo"]
