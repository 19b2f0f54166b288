"""Every Dagster API the project uses that is not public, in one adapter.

Dagster 1.13 offers no public way to do these, so they are reached here and nowhere else:
- an instance from a home folder with another config folder (`InstanceRef.from_dir`);
- a pool's slot limit, and freeing the slots of a run whose process died (event log storage);
- the event log storage our pooled SQLite store builds on (`storage.py`): its base
  class, schema, config helper and event types;
- the run coordinator's module path in `instance/dagster.yaml`;
- the prefix Dagster puts before a `Failure` message in a run's failure event;
- a resource's configured value as the definitions that launched a run recorded it (the run's job
  snapshot), which the run worker cannot otherwise tell from its own freshly loaded definitions;
- what a Celery worker needs to execute a run and a run launcher to report its health
  (`workers.py`): the run worker's command body, its packed arguments, and the health result types.

`check_internals()` resolves each one and says which changed; a test runs it, so a Dagster
upgrade that moves or reshapes one fails loudly, naming the API, instead of breaking a user's
sync. Keep the list in `INTERNALS` in step with what this module imports.
"""

import importlib
import inspect
import json
from pathlib import Path

import dagster as dg
from dagster._cli.api import _execute_run_command_body as execute_run_command_body
from dagster._core.events import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import SqliteStorageConfig
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster._grpc.types import ExecuteRunArgs
from dagster._serdes import ConfigurableClassData, unpack_value

__all__ = [
    "SQLITE_BUSY_TIMEOUT_SECONDS", "CheckRunHealthResult", "ConfigurableClassData", "DagsterEventType", "EventLogEntry",
    "ExecuteRunArgs", "WorkerStatus", "execute_run_command_body", "unpack_value",
    "SqlEventLogStorageTable", "SqliteEventLogStorage", "SqliteStorageConfig", "check_internals",
    "fingerprint_launched_with", "free_pool_slots", "instance_from_home", "set_pool_limit", "strip_failure_prefix",
]

RUN_COORDINATOR = ("dagster._core.run_coordinator", "QueuedRunCoordinator")  # instance/dagster.yaml
FAILURE_PREFIXES = ("dagster._core.definitions.events.Failure: ", "Failure: ")

# (what it is, module, attribute, methods or parameters it must have)
INTERNALS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("instance from a home folder", "dagster._core.instance.ref", "InstanceRef", ("from_dir",)),
    ("event types", "dagster._core.events", "DagsterEventType",
     ("ASSET_MATERIALIZATION", "ASSET_OBSERVATION", "ASSET_MATERIALIZATION_PLANNED")),
    ("event log entries", "dagster._core.events.log", "EventLogEntry", ("dagster_event", "run_id")),
    ("event log schema", "dagster._core.storage.event_log.schema", "SqlEventLogStorageTable", ()),
    ("SQLite event log storage", "dagster._core.storage.event_log.sqlite.sqlite_event_log", "SqliteEventLogStorage",
     ("store_event", "store_event_batch", "index_connection", "run_connection", "set_concurrency_slots",
      "free_concurrency_slots_for_run")),
    ("SQLite busy timeout", "dagster._core.storage.sqlite", "SQLITE_BUSY_TIMEOUT_SECONDS", ()),
    ("SQLite storage config", "dagster._core.storage.sqlite_storage", "SqliteStorageConfig", ()),
    ("configurable class data", "dagster._serdes", "ConfigurableClassData", ()),
    ("queued run coordinator (instance/dagster.yaml)", *RUN_COORDINATOR, ()),
    ("a run's job snapshot", "dagster._core.snap.job_snapshot", "JobSnap", ("config_schema_snapshot",)),
    ("config schema snapshot", "dagster._config.snap", "ConfigSchemaSnapshot", ("all_config_snaps_by_key",)),
    ("config field snapshot", "dagster._config.snap", "ConfigFieldSnap",
     ("name", "default_provided", "default_value_as_json_str")),
    ("the run worker's command body (workers.py)", "dagster._cli.api", "_execute_run_command_body",
     ("instance", "run_id", "write_stream_fn", "set_exit_code_on_failure")),
    ("a run worker's packed arguments", "dagster._grpc.types", "ExecuteRunArgs", ("run_id",)),
    ("unpacking them", "dagster._serdes", "unpack_value", ()),
    ("run worker health", "dagster._core.launcher", "CheckRunHealthResult", ()),
    ("run worker states", "dagster._core.launcher", "WorkerStatus", ("RUNNING", "UNKNOWN", "FAILED")),
)


def check_internals() -> list[str]:
    """What no longer resolves, one line per API (empty: every internal this project uses is there)."""
    problems = []
    for what, module_name, attribute, members in INTERNALS:
        where = f"{module_name}.{attribute}"
        try:
            found = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as err:
            problems.append(f"{what}: {where} is gone ({err})")
            continue
        names = set(inspect.signature(found).parameters) if inspect.isfunction(found) else set()
        missing = [m for m in members if not hasattr(found, m) and m not in names]
        if missing:
            problems.append(f"{what}: {where} has no {', '.join(missing)}")
    if "config_dir" not in inspect.signature(InstanceRef.from_dir).parameters:
        problems.append("instance from a home folder: InstanceRef.from_dir takes no config_dir")
    return problems


def instance_from_home(home: Path, config_dir: Path | None = None) -> dg.DagsterInstance:
    """The instance kept in `home`, its `dagster.yaml` read from `config_dir` (default: `home`)."""
    ref = InstanceRef.from_dir(str(home), config_dir=str(config_dir)) if config_dir else InstanceRef.from_dir(str(home))
    return dg.DagsterInstance.from_ref(ref)


def set_pool_limit(instance: dg.DagsterInstance, pool: str, limit: int) -> None:
    """Set a pool's slot limit (so the UI lists it before its first run)."""
    instance.event_log_storage.set_concurrency_slots(pool, limit)


def free_pool_slots(instance: dg.DagsterInstance, run_id: str) -> None:
    """Free the pool slots a run held whose process is gone (Dagster frees them only for live runs)."""
    instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def strip_failure_prefix(message: str) -> str:
    """A `Failure`'s own message, without the class path Dagster puts before it in the failure event."""
    for prefix in FAILURE_PREFIXES:
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


FINGERPRINT_FIELD = "config_fingerprint"  # ConfigResource's field (health_pipeline/pipeline/resources.py)


def fingerprint_launched_with(instance: dg.DagsterInstance | None, run: dg.DagsterRun | None) -> str | None:
    """The config fingerprint recorded by the definitions that launched `run` (the default of the config
    resource's `config_fingerprint` in the run's job snapshot, written when the run was created), or
    None outside a run. A run worker loads the definitions anew from the file as it is now, so its own
    resources cannot tell that the file changed after the code location (the UI, the daemon) loaded it."""
    if instance is None or run is None or not run.job_snapshot_id:
        return None
    snapshot = instance.get_job_snapshot(run.job_snapshot_id)
    for config_type in snapshot.config_schema_snapshot.all_config_snaps_by_key.values():
        for found in config_type.fields or ():
            if found.name == FINGERPRINT_FIELD and found.default_provided and found.default_value_as_json_str:
                return str(json.loads(found.default_value_as_json_str))
    return None
