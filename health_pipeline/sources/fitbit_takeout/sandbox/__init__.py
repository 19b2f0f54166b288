"""Fitbit export archives written from the sandbox world (`generate.py`), for tests, benchmarks and the
demo: never imported by the product."""
