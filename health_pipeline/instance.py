"""Which Dagster instance the CLI records its runs in: the same one `dagster dev` uses.

`$DAGSTER_HOME` when set; otherwise the project's `dagster.yaml` in the working directory with
its repo-local `.dagster_home/` (what `dagster dev` does from the repo root); otherwise a
`.dagster_home/` beside the config file.
"""

import os
from importlib import resources
from pathlib import Path

import dagster as dg
from dagster._core.instance.ref import InstanceRef

from health_pipeline.config import Config

# One client per provider API, one writer per store (the limits also default to 1 in dagster.yaml).
POOLS = ("oura_api", "fitbit_api", "withings_api", "hevy_api", "raw_store", "duckdb")


HOME_MARK = "@dagster_home@"  # in dagster_instance.yaml: where the Dagster home's absolute path goes


def instance_settings(home: Path) -> str:
    """The instance settings (pools, queue, retries, telemetry off, event log) for a Dagster home
    at `home`, as dagster.yaml text."""
    text = resources.files("health_pipeline").joinpath("dagster_instance.yaml").read_text(encoding="utf-8")
    return text.replace(HOME_MARK, str(home.absolute()))


def ensure_instance_settings(home: Path) -> bool:
    """Write our dagster.yaml into a Dagster home that has none; True if it wrote one."""
    target = home / "dagster.yaml"
    if target.exists() or (home / "dagster.yml").exists():
        return False
    home.mkdir(parents=True, exist_ok=True)
    target.write_text(instance_settings(home), encoding="utf-8")
    return True


def open_instance(config: Config) -> dg.DagsterInstance:
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    cwd = Path.cwd()
    if (cwd / "dagster.yaml").exists():
        home = cwd / ".dagster_home"
        home.mkdir(exist_ok=True)
        return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home), config_dir=str(cwd)))
    return instance_in(config.base_dir / ".dagster_home")


def instance_in(home: Path) -> dg.DagsterInstance:
    """The instance whose home is `home`, given our settings if it has no dagster.yaml yet."""
    ensure_instance_settings(home)
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home.absolute())))


def register_pools(instance: dg.DagsterInstance, limit: int = 1) -> None:
    """Set every pool's limit explicitly, so the UI lists them before their first run."""
    for pool in POOLS:
        instance.event_log_storage.set_concurrency_slots(pool, limit)
