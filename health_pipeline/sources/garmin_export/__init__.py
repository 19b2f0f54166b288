"""A Garmin Connect export ("Export Your Data": JSON files and the watch's FIT files), imported into the raw
store as provider `garmin_export` and modelled into the tidy tables as provider `garmin`, ready for a live
Garmin source (whose rows would win the days both have, as the Google Health API's do over a Fitbit export)."""

from health_pipeline.declarations import ImportRun, ImportSource, TidyInput
from health_pipeline.sources.garmin_export.archive import ArchiveError
from health_pipeline.sources.garmin_export.importer import PROVIDER, import_garmin_export
from health_pipeline.sources.garmin_export.settings import GarminExportConfig


def _read(run: ImportRun) -> dict[str, object]:
    summary = import_garmin_export(run.path, run.store, run.app.tz, run.progress)
    for line in summary.lines():
        run.log(line)
    if summary.failed:
        run.warn(f"{len(summary.failed)} file(s) landed nothing: " + " | ".join(summary.failed[:5]))
    return summary.as_metadata()


_W = "window"

SOURCE = ImportSource(
    name=PROVIDER,
    package=__name__,
    settings=GarminExportConfig,
    description=(
        "a Garmin Connect export (the .zip of JSON and FIT files, or the unpacked folder), read into the raw store "
        "as provider `garmin_export` (daily summaries, nights, health status, activities, weigh-ins kept verbatim "
        "by their own ids and days; the heart rate of the monitoring and activity FIT files per local day); the "
        "tidy tables model it as provider `garmin`."),
    read=_read,
    refuses=(ArchiveError,),
    models_as="garmin",
    help="a Garmin Connect export (\"Export Your Data\"): the .zip Garmin sends, or the unpacked folder",
    tidy=(
        TidyInput("daily_activity", ("uds",), _W),
        TidyInput("heart_rate", ("monitoring", "activity_fit"), _W),
        TidyInput("heart_rate_zones", ("activities",), _W),
        TidyInput("sleep_sessions", ("sleep",), _W),
        TidyInput("body_measurements", ("biometrics",), _W),
        TidyInput("workouts", ("activities", "activity_fit"), _W),
        TidyInput("daily_vitals", ("health_status", "sleep"), _W),
        TidyInput("daily_scores", ("sleep",), _W),
    ),
    # A watch's own figures, after the sources listed before it (a live Garmin source would declare these).
    summary={"steps": 4, "distance_m": 4, "active_kcal": 4, "total_kcal": 5, "floors": 2, "resting_hr_bpm": 3,
             "asleep_s": 4, "time_in_bed_s": 4, "sleep_score": 4, "hrv_ms": 4, "spo2_pct": 3,
             "respiratory_rate_brpm": 4, "weight_kg": 3, "fat_ratio_pct": 2},
)
