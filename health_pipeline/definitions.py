"""Dagster's entry point (`workspace.yaml`, `dagster dev`): the project's definitions.

The configuration is read here because it fixes the partitions (start date, time zone); a bad
config stops the code location with the same one-line message the CLI prints.
"""

from health_pipeline.config import load_config
from health_pipeline.defs.build import build_definitions

defs = build_definitions(load_config())
