"""Dagster's entry point (`workspace.yaml`, `dagster dev`): the project's definitions.

The configuration is read here because it fixes the partitions (start date, time zone); a bad
config stops the code location with the same one-line message the CLI prints. The Dagster
settings a long backfill needs are applied here too, for `dagster dev` and the daemon
(health_pipeline/dagster_settings.py).
"""

from health_pipeline.dagster_settings import apply_dagster_settings

apply_dagster_settings()

from health_pipeline.config import load_config  # noqa: E402
from health_pipeline.pipeline.build import build_definitions  # noqa: E402

defs = build_definitions(load_config())
