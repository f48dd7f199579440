"""The `mentorbot` command (Typer): `main` holds the app and the top-level commands, each group
of commands has a module (`cohorts`, `plans`, `rounds`), and `common` holds what they share
(consoles, settings, failing with one line, running a database action). May use every package."""
