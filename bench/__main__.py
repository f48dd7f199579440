"""`python -m bench` runs every benchmark (see bench/run_all.py)."""

from bench.run_all import main

main()
