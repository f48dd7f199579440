"""National scale, simulated: one PostgreSQL database, three `mentorbot run` instances, a
Monday 08:00 expectations round for a slice of 2,000 cohorts, against the sandbox at 30 msg/s.

The data (2,000 cohorts × 25 students = 50,000, and a 400-cohort = 10,000 one for the memory
comparison; 4 weeks of answers each) is written once with COPY into a PostgreSQL database that
is kept as a template (`mentorbot_bench_national_<students>`; `--fresh` rebuilds it). Each run
copies the template, starts three webhook instances behind the sandbox's round-robin load
balancer, and pushes week 5's expectations (what the scheduler does at Monday 08:00, on a clock
the benchmark owns: the cohorts start in 2030, so the instances' own schedulers on the real
clock find nothing due) for the first `--slice` cohorts with `bot.schedule.rounds.open_rounds`,
the function the scheduler fires (its messages queued at the real now: the instances' senders
run on the real clock). The sandbox allows the bot 30 messages/s and 1/s per chat.

A full national round at 30/s takes ~28 minutes, so a slice is run and the full round
extrapolated: figures are the delivery rate against the bot's limit (the baseline: what
Telegram allows; the bot's use of it counts the tappers' replies too), 429s and when they
came, the replies target while the round drains (`--tappers` students of a cohort outside
the slice answer their reflection, as `bench.tap_latency` does; as many of another cohort did
before the round: the baseline), duplicates, peak RSS of
each instance at both database sizes, the database size per school year (from measured bytes
per row) and EXPLAIN of the hot queries.

    .venv/bin/python -m bench.national [--slice 120] [--sizes 10000,50000] [--tappers 5]
"""
