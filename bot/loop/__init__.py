"""From signal to agreement to outcome.

Owns the mentor team's learning agreements (leerafspraken: made from an alert or /afspraak,
told to the student, asked about in the follow-up week's reflection, and their effect on the
alert), the class meeting's agenda (/agenda, Besproken with a one-line note), compliments,
and the student's timeline (alerts, agreements and outcomes, notes, compliments).
No Telegram: handlers/loop.py turns updates into these calls.
"""
