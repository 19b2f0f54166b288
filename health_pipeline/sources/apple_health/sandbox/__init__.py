"""Apple Health exports written from the sandbox world (`generate.py`), for tests and benchmarks: never
imported by the product."""
