"""The Fitbit export's import asset: reads the archive into the raw store (provider `fitbit_takeout`)."""

from pathlib import Path

import dagster as dg

from health_pipeline.config import Config
from health_pipeline.pipeline.imports import build_import_asset, progress_hook_or_log
from health_pipeline.pipeline.resources import RawStoreResource
from health_pipeline.sources.fitbit_takeout.archive import ArchiveError
from health_pipeline.sources.fitbit_takeout.importer import import_takeout
from health_pipeline.sources.fitbit_takeout.settings import FitbitTakeoutConfig


def _run(context: dg.AssetExecutionContext, config: Config, path: Path, raw_store: RawStoreResource) -> dict[str, object]:
    try:
        summary = import_takeout(path, raw_store.store(), config.app.tz, progress_hook_or_log(context, path))
    except ArchiveError as err:
        raise dg.Failure(str(err), allow_retries=False) from None
    for line in summary.lines():
        context.log.info(line)
    if summary.failed:
        context.log.warning(f"{len(summary.failed)} file(s) landed nothing: " + " | ".join(summary.failed[:5]))
    return summary.as_metadata()


def import_assets(settings: FitbitTakeoutConfig) -> list[dg.AssetsDefinition]:
    return [build_import_asset(
        "fitbit_takeout", "Fitbit export",
        "a Google Takeout (Fitbit or Google Health) or fitbit.com archive, read into the raw store as provider "
        "`fitbit_takeout` (the files' rows kept verbatim, per local day, with the detected clock and units); the "
        "tidy tables model it as provider `fitbit`, the live API winning the days both have (`[fitbit_takeout] "
        "archive_wins`).", _run)]
