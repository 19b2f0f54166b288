"""Dagster settings that are environment variables, not dagster.yaml keys, and that a long
backfill needs: set in every process that runs our code (the CLI, `dagster dev`, the daemon, the
Docker image) before Dagster reads them.

- `DAGSTER_EVENT_BATCH_SIZE=1000`: a step's events (one materialization per partition in a
  partition-range run) reach the event log in batches of up to 1000, through the storage's
  `store_event_batch`, instead of one write per event. Dagster reads it at each event, so
  setting it at start-up is enough.
- `DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS=true`: a partition-range run records one
  "materialization planned" event per asset with the partition subset, instead of one per
  partition and asset before the first step starts. Its cost: when such a run fails, the UI
  shows its unmaterialized partitions as missing, not as failed (the run itself shows failed,
  and every partition that did land shows materialized with its run).

This module imports nothing from Dagster, so the CLI can apply the settings before Dagster loads.
"""

import os
from collections.abc import MutableMapping

DAGSTER_SETTINGS: dict[str, str] = {
    "DAGSTER_EVENT_BATCH_SIZE": "1000",
    "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true",
}


def apply_dagster_settings(environ: MutableMapping[str, str] | None = None) -> None:
    """Set each of `DAGSTER_SETTINGS` in `environ` (default `os.environ`) unless already set:
    a user's own value wins, so either can be turned off (`DAGSTER_EVENT_BATCH_SIZE=0`)."""
    target = os.environ if environ is None else environ
    for name, value in DAGSTER_SETTINGS.items():
        target.setdefault(name, value)
