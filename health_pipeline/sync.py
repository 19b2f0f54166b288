"""Headless materialization (`health-pipeline sync` / `rebuild` / `import`): one Dagster run per call.

Runs are recorded in the Dagster instance, so they show up in the UI like any other run. A sync
fetches every enabled provider (or those named): the date-driven ones (Oura, Fitbit) over the
days due or asked for, the change-driven ones (Withings, Hevy) from their raw-store watermarks,
the same ones the sensors use; profile and reference data when a day old; then models and exports.
"""

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import dagster as dg
from dagster import DagsterRunStatus, RunsFilter

from health_pipeline.config import Config
from health_pipeline.instance.internals import free_pool_slots, strip_failure_prefix
from health_pipeline.naming import (HOST_TAG, PID_TAG, PROVIDER_TAG, RANGE_END, RANGE_START, SCHEDULE_NAME, SENSOR_NAME,
                                    TRIGGER_TAG, fetch_tags)
from health_pipeline.pipeline.build import build_definitions
from health_pipeline.pipeline.partitions import daily_partitions
from health_pipeline.pipeline.resources import ImportProgress
from health_pipeline.pipeline.runs import active_fetches
from health_pipeline.pipeline.selection import (change_keys_by_source, daily_keys_by_source, downstream_keys,
                                                follow_up_keys, optional_daily_keys, snapshot_keys_by_source)
from health_pipeline.settings import ConfigError

__all__ = ["downstream_keys", "materialize_range", "raw_asset_keys"]

REFERENCE_EVERY = timedelta(hours=20)  # profile and reference data are refreshed by `sync` when older
POLL_S = 1.0  # how often a sync waiting for another run's fetch looks again


class SyncError(Exception):
    """The run failed; the message lists each failed step in one line."""


@dataclass(frozen=True)
class SyncPlan:
    """The landing assets one sync runs, by how each is driven."""

    providers: tuple[str, ...]
    dated: list[dg.AssetKey]  # daily-partitioned: the range's days
    changes: list[dg.AssetKey]  # Withings, Hevy, Strava: what changed since the watermark; their follow-ups
    reference: list[dg.AssetKey]  # profile and reference data, refreshed whole when due

    @property
    def keys(self) -> list[dg.AssetKey]:
        return [*self.dated, *self.changes, *self.reference]


def plan_sync(config: Config, instance: dg.DagsterInstance | None, providers: list[str] | None,
              now: datetime | None = None) -> SyncPlan:
    """What a sync of `providers` (default: every enabled one) fetches. Reference data is included
    when its last materialization in `instance` is older than `REFERENCE_EVERY` (or there is none)."""
    wanted = list(dict.fromkeys(providers or config.enabled_providers))
    if not wanted:
        raise ConfigError(f"no provider is enabled; enable one in the config (e.g. [{config.registry.api_names()[0]}] "
                          "enabled = true)")
    for name in wanted:
        if not config.provider(name).enabled:
            raise ConfigError(f"--provider {name}: disabled in the config ([{name}] enabled = false)")
    daily, changed, snapshots = (daily_keys_by_source(config.registry), change_keys_by_source(config.registry),
                                 snapshot_keys_by_source(config.registry))
    dated = [key for name in wanted for key in daily.get(name, [])] + optional_daily_keys(config, wanted)
    changes = [key for name in wanted for key in changed.get(name, [])] + follow_up_keys(config, wanted)
    moment = (now or datetime.now().astimezone()).timestamp()
    reference = [key for name in wanted for key in snapshots.get(name, [])
                 if instance is None or _refreshed_at(instance, key) < moment - REFERENCE_EVERY.total_seconds()]
    return SyncPlan(tuple(wanted), dated, changes, reference)


def _refreshed_at(instance: dg.DagsterInstance, key: dg.AssetKey) -> float:
    event = instance.get_latest_materialization_event(key)
    return event.timestamp if event is not None else 0.0


@dataclass
class SyncResult:
    """What a sync did: the run, its range, and each asset's metadata."""

    run_id: str
    start: date
    end: date
    assets: list[str]
    metadata: dict[str, dict[str, object]] = field(default_factory=dict)


def raw_asset_keys(config: Config, providers: list[str] | None) -> list[dg.AssetKey]:
    """The date-driven landing assets of the chosen (or all enabled) providers."""
    return plan_sync(config, None, providers).dated


def today_in(config: Config) -> date:
    return datetime.now(config.app.tz).date()


def due_range(config: Config, instance: dg.DagsterInstance, keys: list[dg.AssetKey]) -> tuple[date, date]:
    """From the first never-materialized day of `keys` (at most yesterday, for revisions) through
    today; yesterday and today when there are no date-driven keys (the tidy tables' window)."""
    partitions = daily_partitions(config)
    all_keys = partitions.get_partition_keys(dynamic_partitions_store=instance)
    today = today_in(config)
    first = today - timedelta(days=1)
    for key in keys:
        done = instance.get_materialized_partitions(key)
        missing = next((k for k in all_keys if k not in done), None)
        if missing is not None:
            first = min(first, date.fromisoformat(missing))
    return max(first, date.fromisoformat(all_keys[0])), today


def check_range(config: Config, start: date, end: date) -> None:
    partitions = daily_partitions(config)
    first = date.fromisoformat(partitions.start.strftime("%Y-%m-%d"))
    today = today_in(config)
    if start > end:
        raise ConfigError(f"--start {start} is after --end {end}")
    if start < first:
        raise ConfigError(f"--start {start} is before the earliest configured start_date {first}")
    if end > today:
        raise ConfigError(f"--end {end} is in the future (today is {today} in {config.app.timezone})")


def wait_for_fetches(instance: dg.DagsterInstance, providers: tuple[str, ...], wait_s: float,
                     say: Callable[[str], None], clock: Callable[[], float] = time.monotonic) -> None:
    """Wait (up to `wait_s`) while another run fetches one of `providers` (a sensor's, a schedule's,
    another CLI sync's), saying so once; then refuse with one line. A provider is never fetched by
    two runs at once (its API pool would hold the second anyway, silently)."""
    release_abandoned_runs(instance)
    deadline = clock() + wait_s
    said: set[str] = set()
    while True:
        busy = {(provider, run.run_id): run for provider in providers for run in active_fetches(instance, provider)}
        if not busy:
            return
        for (provider, run_id), run in busy.items():
            if run_id not in said:
                say(f"{provider}: waiting for run {run_id[:8]} ({_trigger(run)}) to finish fetching it")
                said.add(run_id)
        if clock() >= deadline:
            (provider, run_id), run = next(iter(busy.items()))
            raise SyncError(f"{provider}: run {run_id[:8]} ({_trigger(run)}) is still fetching it after {wait_s:g} s "
                            "([app] lock_wait_s); try again when it has finished")
        time.sleep(POLL_S)  # polling the run storage: Dagster has no notification to wait on


def _trigger(run: dg.DagsterRun) -> str:
    """Who started a run, in words: `the withings_changes sensor`, `a CLI sync`, `the recent_days schedule`."""
    tags = run.tags
    if SENSOR_NAME in tags:
        return f"the {tags[SENSOR_NAME]} sensor"
    if SCHEDULE_NAME in tags:
        return f"the {tags[SCHEDULE_NAME]} schedule"
    if tags.get(TRIGGER_TAG) == "cli":
        return f"a CLI sync, pid {tags.get(PID_TAG, '?')}"
    return f"{tags[PROVIDER_TAG]} run" if PROVIDER_TAG in tags else "a run"


def sync_tags(plan: SyncPlan) -> dict[str, str]:
    """The tags a sync's run carries: which providers it fetches (the sensors then wait)."""
    return fetch_tags(plan.providers)


def materialize_range(
    config: Config, instance: dg.DagsterInstance, keys: list[dg.AssetKey], start: date, end: date,
    *, log_level: str = "WARNING", tags: dict[str, str] | None = None, ops: dict[str, object] | None = None,
    progress: ImportProgress | None = None,
) -> SyncResult:
    """Materialize `keys` over [start, end] in a single run (console logs from `log_level` up; `ops`: run
    config of assets, e.g. an import's path; `progress`: how an import reports how far it read)."""
    release_abandoned_runs(instance)
    defs = build_definitions(config, progress)
    job_defs = dg.Definitions(
        jobs=[dg.define_asset_job("__ephemeral_asset_job__", selection=dg.AssetSelection.assets(*keys))],
        assets=list(defs.assets or []),
        resources=dict(defs.resources or {}),
        loggers={"console": one_line_console},
    )
    result = job_defs.resolve_job_def("__ephemeral_asset_job__").execute_in_process(
        instance=instance,
        tags={
            RANGE_START: start.isoformat(),
            RANGE_END: end.isoformat(),
            TRIGGER_TAG: "cli",
            PID_TAG: str(os.getpid()),
            HOST_TAG: socket.gethostname(),
            **(tags or {}),
        },
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}, **({"ops": ops} if ops else {})},
        raise_on_error=False,
    )
    if not result.success:
        steps_by_message: dict[str, list[str]] = {}  # one message, once, for the steps that share it
        # a step that failed, or could not start because a resource could not (the config file changed)
        failed = [(event.step_key, event.step_failure_data.error) for event in result.get_step_failure_events()]
        failed += [(event.step_key, getattr(event.event_specific_data, "error", None)) for event in result.all_events
                   if event.event_type == dg.DagsterEventType.RESOURCE_INIT_FAILURE]
        for step, error in failed:
            while error is not None and error.cause is not None and _wraps_the_reason(error.message):
                error = error.cause  # report why the last attempt failed (or the resource could not start)
            message = error.message.strip().splitlines()[0] if error else "unknown error"
            steps_by_message.setdefault(_strip_dagster_prefix(message), []).append(step or "?")
        failures = [f"{', '.join(sorted(steps))}: {message}" for message, steps in steps_by_message.items()]
        raise SyncError(f"run {result.run_id} failed: " + " | ".join(failures or ["see the Dagster UI"]))
    sync = SyncResult(result.run_id, start, end, [k.to_user_string() for k in keys])
    for key in keys:
        materializations = result.asset_materializations_for_node(key.to_python_identifier())
        if materializations:
            sync.metadata[key.to_user_string()] = {
                name: value.value for name, value in materializations[-1].metadata.items()
            }
    return sync


def _wraps_the_reason(message: str) -> bool:
    """Dagster's own words around the error that says why: retries ran out, a resource failed to start."""
    return "max_retries" in message or "Error executing resource_fn" in message


class _OneLine(logging.Formatter):
    """`step: message` for what the assets log; Dagster's own events (failures with their stack
    traces, step starts) are left to the Dagster UI, since the CLI sums a failed run up in one line."""

    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, "dagster_meta", None) or {}
        message = meta.get("orig_message", record.getMessage())
        step = meta.get("step_key")
        return f"{step}: {message}" if step else str(message)


def _not_an_event(record: logging.LogRecord) -> bool:
    meta = getattr(record, "dagster_meta", None) or {}
    skipped = str(meta.get("orig_message", "")).startswith("Dependencies for step")  # implied by the summary
    return not meta.get("dagster_event") and not skipped


@dg.logger(config_schema={"log_level": dg.Field(str, default_value="WARNING")},
           description="One line per message the assets log, to stderr; no Dagster event dumps.")
def one_line_console(init_context: dg.InitLoggerContext) -> logging.Logger:
    """The console logger of CLI runs."""
    handler = logging.StreamHandler()  # stderr, looked up now (so it follows redirection)
    handler.setFormatter(_OneLine())
    handler.addFilter(_not_an_event)
    log = logging.Logger("health_pipeline.run", level=init_context.logger_config["log_level"])
    log.addHandler(handler)
    return log


def release_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the CLI runs whose process died (SIGKILL, power loss), freeing their pool slots.

    A run killed mid-step never reports its end, so Dagster keeps it "started" and keeps the
    concurrency slots it claimed (one writer per store, one client per API): every later run would
    wait for them forever. Only runs started on this host by a process that no longer exists are
    touched; what they landed stays (the raw store commits whole chunks).
    """
    host = socket.gethostname()
    live = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]
    released = []
    for run in instance.get_runs(filters=RunsFilter(statuses=live, tags={TRIGGER_TAG: "cli", HOST_TAG: host})):
        pid = int(run.tags.get(PID_TAG, "0") or 0)
        if pid <= 0 or _process_exists(pid):
            continue
        instance.report_run_failed(run, message=f"The health-pipeline process that ran this run (pid {pid}) is gone; "
                                                "marked failed so its pool slots are freed. A new run picks up "
                                                "what it did not land.")
        free_pool_slots(instance, run.run_id)
        released.append(run.run_id)
    return released


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _strip_dagster_prefix(message: str) -> str:
    return strip_failure_prefix(message)
