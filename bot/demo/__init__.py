"""`mentorbot demo`: the whole product on this machine, no Telegram account needed."""
