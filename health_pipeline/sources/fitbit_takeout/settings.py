"""`[fitbit_takeout]`: where the Fitbit export is, and who wins where it and the live API both have a day."""

from typing import Annotated, ClassVar

from pydantic import BeforeValidator, Field

from health_pipeline.settings import ImportConfig, Positive, table_names

ARCHIVE_TABLES = ("daily_activity", "heart_rate", "heart_rate_zones", "sleep_sessions", "body_measurements",
                  "daily_vitals", "workouts")


class FitbitTakeoutConfig(ImportConfig):
    """A Fitbit export (Google Takeout "Fitbit" or "Google Health", or a fitbit.com archive): a `.zip`,
    a folder of `.zip` parts or an unpacked folder. Per tidy table, a day both it and the Google Health
    API have is taken from the API unless the table is listed in `archive_wins`."""

    name: ClassVar[str] = "fitbit_takeout"
    title: ClassVar[str] = "Fitbit export"
    path: str = Field("", description=(
        "A Fitbit export to import with `health-pipeline import fitbit-takeout` (or the import_fitbit_takeout "
        "asset): a Google Takeout .zip, a folder of .zip parts, or an unpacked folder. Relative to this file."))
    archive_wins: Annotated[tuple[str, ...], BeforeValidator(table_names(ARCHIVE_TABLES, "an export"))] = Field((), description=(
        "Tidy tables where the export wins the days the Google Health API also has (default: the API wins)."))
    tolerance_pct: Positive = Field(5.0, description=(
        "How far the two may differ on a day (%) before the tables' origins_agree check warns."))
