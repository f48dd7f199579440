"""`python -m bot.cli`: the same as the `mentorbot` script."""

from bot.cli.main import main

main()
