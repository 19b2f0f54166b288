"""`[garmin_export]`: where the Garmin Connect export is, and who wins where it and a live Garmin source both
have a day (none is registered yet: the export's rows are provider `garmin` for when one is)."""

from typing import Annotated, ClassVar

from pydantic import BeforeValidator, Field

from health_pipeline.settings import ImportConfig, Positive, table_names

EXPORT_TABLES = ("daily_activity", "heart_rate", "heart_rate_zones", "sleep_sessions", "body_measurements",
                 "daily_vitals", "daily_scores", "workouts")


class GarminExportConfig(ImportConfig):
    """A Garmin Connect export ("Export Your Data"): the `.zip` Garmin sends, or the unpacked folder. Per
    tidy table, a day both it and a live Garmin source have is taken from the live source unless the
    table is listed in `archive_wins`."""

    name: ClassVar[str] = "garmin_export"
    title: ClassVar[str] = "Garmin export"
    path: str = Field("", description=(
        "A Garmin Connect export to import with `health-pipeline import garmin-export` (or the "
        "import_garmin_export asset): the .zip Garmin sends, or the unpacked folder. Relative to this file."))
    archive_wins: Annotated[tuple[str, ...], BeforeValidator(table_names(EXPORT_TABLES, "a Garmin export"))] = Field(
        (), description="Tidy tables where the export wins the days a live Garmin source also has (default: the live source wins).")
    tolerance_pct: Positive = Field(5.0, description=(
        "How far the two may differ on a day (%) before the tables' origins_agree check warns."))
