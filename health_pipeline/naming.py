"""How assets and runs are named, in one place: landing-asset keys and every run tag the project sets or reads.

Asset keys: a source's landing asset is `{source}_{resource}` in snake_case (`fitbit_heart_rate`
for the Google Health data type `heart-rate`); an import's asset is `import_{source}`; the tidy
tables are their own names; the export is `export_victoriametrics`.
"""

from collections.abc import Iterable

import dagster as dg

EXPORT_ASSET = "export_victoriametrics"

# -- run tags -------------------------------------------------------------------------------------
# Dagster's own: a partition range run's first and last partition.
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
PARTITION = "dagster/partition"
SENSOR_NAME = "dagster/sensor_name"
SCHEDULE_NAME = "dagster/schedule_name"
# Ours. Sensor and schedule runs name what they are for (one run per value at a time, dagster.yaml):
# a source's name, `daily`, `reference` or `model`.
PROVIDER_TAG = "health/provider"
FETCH_PREFIX = "health/fetch."  # `health/fetch.withings: true`: the run fetches that source
WINDOW_TAG = "health/window"  # `sync --start --end`: the days the change-driven sources fetch whole
REBUILD_TAG = "health/rebuild"  # `full` (`health-pipeline rebuild`): re-model change-driven sources anyway
FOLLOW_TAG = "health/follows_run"  # a model-and-export run started after this raw run
TRIGGER_TAG = "health/trigger"  # `cli`: started by the command line
PID_TAG = "health/pid"  # the CLI process running it (its host: HOST_TAG), to free its pools if it dies
HOST_TAG = "health/host"
WORKER_TAG = "health/worker"  # the Celery worker that executed the run (health_pipeline/instance/workers.py)
TAKE_TOKENS_TAG = "health/take_tokens"  # `true`: `import health-sync --take-tokens`
# An import's model-and-export run: the local days it changed (`2025-01-01..2025-01-31,2025-03-04`) and
# the raw providers it wrote (`apple_health`); the tidy tables re-model only those.
DAYS_TAG = "health/days"
MODELS_TAG = "health/models"
# Whose data a run syncs, models and exports: person ids (`alice,bob`) or cohorts (`c001`), comma-separated;
# a run with neither covers everyone. One run per cohort at a time (dagster.yaml).
PEOPLE_TAG = "health/people"
COHORT_TAG = "health/cohort"


def raw_asset_name(source: str, resource: str) -> str:
    """`oura_daily_activity`, `fitbit_heart_rate`: source and resource, snake_case."""
    return f"{source}_{resource.replace('-', '_')}"


def landing_key(source: str, resource: str) -> dg.AssetKey:
    """The landing asset's key for a source's resource."""
    return dg.AssetKey(raw_asset_name(source, resource))


def fetch_tag(source: str) -> str:
    """The tag every run that fetches a source carries (`health/fetch.withings: true`): a CLI sync
    fetches several sources at once, so one `health/provider` value cannot name them all."""
    return f"{FETCH_PREFIX}{source}"


def fetch_tags(sources: Iterable[str]) -> dict[str, str]:
    return {fetch_tag(s): "true" for s in sources}


def window_tag(start: object, end: object) -> dict[str, str]:
    """`sync --start --end`'s tag: the change-driven assets fetch those local days whole too."""
    return {WINDOW_TAG: f"{start}..{end}"}
