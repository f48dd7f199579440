"""Recurring gaps. The pure rules (`rules` with `model`, `evidence`, `two_views`, `timing`) turn
a cohort's answers and the workplace's observations into findings with evidence; `lifecycle`
(pure) decides which findings become, stay or stop being alerts. Around them: the cohort's
data as the rules see it (`cohort_data`), the per-answer incremental check (`check`), alerts
stored and queued to the mentor team (`alerts`) in the words of `alert_text`, and the weekly
digest (`digest`). The pure modules import neither SQLAlchemy nor Telegram (checked by
import-linter); the rest may use `outbox`, `plans`, `texts`, `charts` and storage."""
