"""The werkbegeleider's side: the personal links that join a workplace
supervisor to a student (`links`), the weekly observation round and its answers (`round`),
the field's needs sent with /signaal (`signals`), and the workplace's view as the mentor team
reads it (`views`). No Telegram here: handlers/observe.py turns updates into these calls.

A werkbegeleider is a member of the cohort with role "werkbegeleider"; each link they open adds
one supervised student. They see only the observation requests of their own students: never a
student's self-ratings, texts or alerts."""
