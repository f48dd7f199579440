"""The mentor commands' services: what they read (`views`: overview, open gaps, one student's
history), what they change (`actions`: the cohort a command is about, next week's expectations,
answers to students' questions) and the CSV export (`export`). May use `schedule`, `gaps`,
`outbox`, `plans`, `texts` and storage."""
