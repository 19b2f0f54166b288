"""health-sync databases written from a store synced against the sandbox (`generate.py`), for tests and
benchmarks: never imported by the product."""
