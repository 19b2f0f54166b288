"""Runs in flight: which of them fetch a source, so that no second fetch of it starts beside them.

A sensor skips its tick while one is queued or running; `health-pipeline sync` waits for it (its
API pool would hold the second run anyway, silently).
"""

import dagster as dg
from dagster import DagsterRunStatus, RunsFilter

from health_pipeline.naming import PROVIDER_TAG, fetch_tag

ACTIVE = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]


def active_fetches(instance: dg.DagsterInstance, provider: str) -> list[dg.DagsterRun]:
    """The runs queued or running that fetch `provider` (a sensor's, a schedule's, a CLI sync's)."""
    found: dict[str, dg.DagsterRun] = {}
    for tags in ({PROVIDER_TAG: provider}, {fetch_tag(provider): "true"}):
        for run in instance.get_runs(filters=RunsFilter(tags=tags, statuses=ACTIVE)):
            found[run.run_id] = run
    return list(found.values())
