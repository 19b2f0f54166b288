"""Which Dagster instance the CLI records its runs in: the same one `dagster dev` uses.

`$DAGSTER_HOME` when set; otherwise the project's `dagster.yaml` in the working directory with
its repo-local `.dagster_home/` (what `dagster dev` does from the repo root); otherwise a
`.dagster_home/` beside the config file.
"""

import os
from pathlib import Path

import dagster as dg
from dagster._core.instance.ref import InstanceRef

from health_pipeline.config import Config


def open_instance(config: Config) -> dg.DagsterInstance:
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    cwd = Path.cwd()
    if (cwd / "dagster.yaml").exists():
        home = cwd / ".dagster_home"
        home.mkdir(exist_ok=True)
        return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home), config_dir=str(cwd)))
    home = config.base_dir / ".dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
