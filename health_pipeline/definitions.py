"""Dagster's entry point (`dg`, `workspace.yaml`, `dagster dev`): the project's definitions.

Two parts, merged: the definitions built from the config file of the registered sources
(health_pipeline/registry.py, health_pipeline/pipeline/build.py), and whatever sits in Dagster's autoloaded folder
`health_pipeline/defs/` (what `dg scaffold defs` writes). The config is read here because it
fixes the partitions (start date, time zone): `--config` cannot reach a code location, so it is
found as everywhere else, `$HEALTH_PIPELINE_CONFIG`, else `./health-pipeline.toml` in the folder
`dg` or `dagster` runs in, else the defaults. A bad config stops the code location with the same
one-line message the CLI prints. The Dagster settings a long backfill needs are applied here too,
for `dg`, `dagster dev` and the daemon (health_pipeline/instance/settings.py).
"""

from pathlib import Path

from health_pipeline.instance.settings import apply_dagster_settings

apply_dagster_settings()

import dagster as dg  # noqa: E402

import health_pipeline.defs  # noqa: E402
from health_pipeline.pipeline.build import build_definitions  # noqa: E402
from health_pipeline.registry import load_config  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dg.definitions
def defs() -> dg.Definitions:
    """The registry's definitions plus the autoloaded `defs/` folder."""
    return dg.Definitions.merge(build_definitions(load_config()),
                                dg.load_defs(defs_root=health_pipeline.defs, project_root=PROJECT_ROOT))
