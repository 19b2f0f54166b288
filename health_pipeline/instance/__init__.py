"""Dagster instance plumbing, in one folder.

- `home.py`: which Dagster home (and instance) the CLI records its runs in, its settings (SQLite or
  PostgreSQL), the pools;
- `settings.py`: the environment settings long backfills need, applied by every entry point;
- `storage.py`: our SQLite event log (open connections, batched writes);
- `internals.py`: every non-public Dagster API the project uses, with a canary;
- `dagster.yaml`: the settings `health-pipeline init` writes into a new Dagster home.
"""
