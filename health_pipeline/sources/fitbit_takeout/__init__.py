"""A Fitbit export (Google Takeout "Fitbit" / "Google Health", or a fitbit.com archive), imported into the
raw store and modelled into the same tidy tables as the live Google Health API data, provider `fitbit`."""

from health_pipeline.declarations import ImportRun, ImportSource, TidyInput
from health_pipeline.sources.fitbit_takeout.archive import ArchiveError
from health_pipeline.sources.fitbit_takeout.importer import import_takeout
from health_pipeline.sources.fitbit_takeout.settings import FitbitTakeoutConfig


def _read(run: ImportRun) -> dict[str, object]:
    summary = import_takeout(run.path, run.store, run.app.tz, run.progress)
    for line in summary.lines():
        run.log(line)
    # A file that landed nothing is in the metadata (`failures`), which the CLI prints, one line a file:
    # not a warning too, or a terminal shows it twice.
    return summary.as_metadata()


_W = "window"

SOURCE = ImportSource(
    name="fitbit_takeout",
    package=__name__,
    settings=FitbitTakeoutConfig,
    description=(
        "a Google Takeout (Fitbit or Google Health) or fitbit.com archive, read into the raw store as provider "
        "`fitbit_takeout` (the files' rows kept verbatim, per local day, with the detected clock and units); the "
        "tidy tables model it as provider `fitbit`, the live API winning the days both have (`[fitbit_takeout] "
        "archive_wins`)."),
    read=_read,
    refuses=(ArchiveError,),
    models_as="fitbit",
    help="a Google Takeout (Fitbit or Google Health) or fitbit.com export: a .zip, a folder of .zip parts, or an "
         "unpacked folder",
    tidy=(
        TidyInput("daily_activity", ("steps", "distance", "calories", "altitude", "sedentary_minutes",
                                     "lightly_active_minutes", "moderately_active_minutes", "very_active_minutes",
                                     "resting_heart_rate", "google_steps", "google_distance", "google_calories",
                                     "google_floors", "google_altitude", "google_active_minutes",
                                     "google_resting_heart_rate"), _W),
        TidyInput("heart_rate", ("heart_rate", "google_heart_rate"), _W),
        TidyInput("heart_rate_zones", ("time_in_heart_rate_zones", "google_active_zone_minutes"), _W),
        TidyInput("sleep_sessions", ("sleep",), _W),
        TidyInput("body_measurements", ("weight", "google_weight", "google_body_fat", "google_height",
                                       "google_body_temperature"), _W),
        TidyInput("workouts", ("exercise",), _W),
        TidyInput("daily_vitals", ("daily_hrv", "daily_spo2", "daily_respiratory_rate", "computed_temperature",
                                    "google_daily_hrv", "google_daily_spo2", "google_daily_respiratory_rate",
                                    "google_respiratory_rate_sleep", "google_sleep_temperature",
                                    "google_daily_vo2_max"), _W),
    ),
)
