"""The weekly rhythm: the wall clock and due moments across DST (`clock`), weekly times such as
"mon 08:00" (`timespec`), the APScheduler-driven `RoundScheduler` (`scheduler`), opening and
closing rounds with their outbox rows in one transaction (`rounds`), opening a round now on a
coordinator's or mentor's word (`on_demand`), and the next round in a student's words
(`next_round`). May use `gaps`, `checkin`, `people`, `outbox`, `plans`, `texts` and storage."""
