"""How assets and runs are named, in one place: landing-asset keys and names, and the run tags.

Asset keys: a source's landing asset is `{source}_{resource}` in snake_case (`fitbit_heart_rate`
for the Google Health data type `heart-rate`); the tidy tables are their own names; the export
is `export_victoriametrics`. Tags: a run that fetches a source carries `health/fetch.{source}`;
sensor and schedule runs also `health/provider`.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg

PROVIDER_TAG = "health/provider"
EXPORT_ASSET = "export_victoriametrics"
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def raw_asset_name(source: str, resource: str) -> str:
    """`oura_daily_activity`, `fitbit_heart_rate`: source and resource, snake_case."""
    return f"{source}_{resource.replace('-', '_')}"


def landing_key(source: str, resource: str) -> "dg.AssetKey":
    """The landing asset's key for a source's resource."""
    import dagster as dg

    return dg.AssetKey(raw_asset_name(source, resource))


def fetch_tag(source: str) -> str:
    """The tag every run that fetches a source carries (`health/fetch.withings: true`): a CLI sync
    fetches several sources at once, so one `health/provider` value cannot name them all."""
    return f"health/fetch.{source}"


def fetch_tags(sources: Iterable[str]) -> dict[str, str]:
    return {fetch_tag(s): "true" for s in sources}
