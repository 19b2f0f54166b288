"""The tidy tables and the export follow any run that landed raw data without them.

A backfill launched from an asset's page in the UI, a Withings or Hevy sensor run, or a
"Materialize" of a few landing assets writes only the raw store. When such a run succeeds, the
`tidy_follows_raw` sensor asks for one run of every tidy table and the export over the same days,
so DuckDB and VictoriaMetrics never lag the raw store until the next schedule tick.
"""

from collections.abc import Mapping
from datetime import date, datetime, timedelta

import dagster as dg

from health_pipeline.config import Config
from health_pipeline.naming import (COHORT_TAG, DAYS_TAG, FOLLOW_TAG, MODELS_TAG, PARTITION, PEOPLE_TAG, PROVIDER_TAG,
                                    RANGE_END, RANGE_START)
from health_pipeline.pipeline.imports import CHANGED, import_providers
from health_pipeline.pipeline.selection import downstream_keys
from health_pipeline.pipeline.windows import parse_ranges, ranges_text

FOLLOW_JOB = "model_and_export"
INTERVAL_S = 15


def follow_range(config: Config, tags: dict[str, str], now: datetime, first: date) -> tuple[date, date]:
    """The days a follow-up run models: the raw run's range or partition, else today and yesterday."""
    today = now.astimezone(config.app.tz).date()
    if RANGE_START in tags and RANGE_END in tags:
        start, end = date.fromisoformat(tags[RANGE_START]), date.fromisoformat(tags[RANGE_END])
    elif PARTITION in tags:
        start = end = date.fromisoformat(tags[PARTITION])
    else:  # change-driven providers: the tidy model rebuilds whatever changed, whatever the window
        start, end = today - timedelta(days=1), today
    return max(start, first), min(end, today)


def imported_days(instance: dg.DagsterInstance, run: dg.DagsterRun, key: dg.AssetKey) -> list[tuple[date, date]]:
    """The days an import asset's materialization in `run` changed (none if it did not materialize there)."""
    event = instance.get_latest_materialization_event(key)
    if event is None or event.run_id != run.run_id or event.asset_materialization is None:
        return []
    value = event.asset_materialization.metadata.get(CHANGED)
    return parse_ranges(str(getattr(value, "value", value) or ""))


def run_asset_keys(instance: dg.DagsterInstance, run: dg.DagsterRun) -> set[dg.AssetKey]:
    """The assets a run set out to materialize: its selection, else the outputs of its plan's steps."""
    if run.asset_selection:
        return set(run.asset_selection)
    if run.execution_plan_snapshot_id is None:
        return set()
    plan = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    return {output.properties.asset_key for step in plan.steps if step.key in plan.step_keys_to_execute
            for output in step.outputs if output.properties and output.properties.asset_key}


def build_follow_sensor(config: Config, raw_keys: set[dg.AssetKey],
                        partitions: dg.DailyPartitionsDefinition) -> tuple[dg.JobDefinition, dg.SensorDefinition]:
    """The `model_and_export` job and the run-status sensor that launches it after raw-only runs."""
    downstream = downstream_keys(config)
    job = dg.define_asset_job(FOLLOW_JOB, selection=dg.AssetSelection.assets(*downstream),
                              description="Every tidy table, then the export, over a range of days.")
    first = partitions.start.date()

    @dg.run_status_sensor(
        name="tidy_follows_raw",
        description="After a successful run that landed raw data but did not model it (a UI backfill of a "
                    "landing asset, a change sensor's run), models and exports the same days.",
        run_status=dg.DagsterRunStatus.SUCCESS,
        request_job=job,
        minimum_interval_seconds=INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def tidy_follows_raw(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
        run = context.dagster_run
        selected = run_asset_keys(context.instance, run)
        if not selected & raw_keys:
            return dg.SkipReason(f"run {run.run_id[:8]} landed no raw data")
        if set(downstream) <= selected:
            return dg.SkipReason(f"run {run.run_id[:8]} already modelled and exported what it landed")
        imports = [i for i in config.registry.imports if dg.AssetKey(i.asset) in selected]
        if imports:  # an import run from the UI: the days it changed, its providers only
            ranges = [r for i in imports for r in imported_days(context.instance, run, dg.AssetKey(i.asset))]
            today = datetime.now(config.app.tz).date()
            ranges = [(a, min(b, today)) for a, b in sorted(ranges) if a <= today]
            if not ranges:
                return dg.SkipReason(f"run {run.run_id[:8]} imported nothing new")
            last = max(b for _, b in ranges).isoformat()  # one partition stands for the days the tag names
            return dg.RunRequest(
                run_key=f"follow:{run.run_id}",
                tags={RANGE_START: last, RANGE_END: last,
                      DAYS_TAG: ranges_text(ranges), MODELS_TAG: ",".join(p for i in imports for p in import_providers(i)),
                      FOLLOW_TAG: run.run_id, PROVIDER_TAG: "model", **whose(run.tags)})
        start, end = follow_range(config, dict(run.tags), datetime.now(config.app.tz), first)
        return dg.RunRequest(
            run_key=f"follow:{run.run_id}",
            tags={RANGE_START: start.isoformat(), RANGE_END: end.isoformat(), FOLLOW_TAG: run.run_id,
                  PROVIDER_TAG: "model", **whose(run.tags)},
        )

    return job, tidy_follows_raw


def whose(tags: Mapping[str, str]) -> dict[str, str]:
    """The people a raw run covered (its `health/people` or `health/cohort` tags): the run following it
    models and exports theirs only."""
    return {key: tags[key] for key in (PEOPLE_TAG, COHORT_TAG) if key in tags}
