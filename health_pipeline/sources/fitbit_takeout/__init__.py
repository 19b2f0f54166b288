"""A Fitbit export (Google Takeout "Fitbit" / "Google Health", or a fitbit.com archive), imported into the
raw store and modelled into the same tidy tables as the live Google Health API data, provider `fitbit`."""

from typing import Any

from health_pipeline.sources.base import Importer, TidyInput
from health_pipeline.sources.fitbit_takeout.settings import FitbitTakeoutConfig


def _assets(settings: FitbitTakeoutConfig) -> list[Any]:
    from health_pipeline.sources.fitbit_takeout.assets import import_assets

    return import_assets(settings)


_W = "window"

IMPORTER = Importer(
    name="fitbit_takeout",
    title="Fitbit export",
    settings=FitbitTakeoutConfig,
    build_assets=_assets,
    models_as="fitbit",
    help="a Google Takeout (Fitbit or Google Health) or fitbit.com export: a .zip, a folder of .zip parts, or an "
         "unpacked folder",
    tidy=(
        TidyInput("daily_activity", ("steps", "distance", "calories", "altitude", "sedentary_minutes",
                                     "lightly_active_minutes", "moderately_active_minutes", "very_active_minutes",
                                     "resting_heart_rate"), _W),
        TidyInput("heart_rate", ("heart_rate", "google_heart_rate"), _W),
        TidyInput("heart_rate_zones", ("time_in_heart_rate_zones",), _W),
        TidyInput("sleep_sessions", ("sleep",), _W),
        TidyInput("body_measurements", ("weight",), _W),
        TidyInput("workouts", ("exercise",), _W),
        TidyInput("daily_vitals", ("daily_hrv", "daily_spo2", "daily_respiratory_rate", "computed_temperature"), _W),
    ),
)
