"""An Apple Health export ("Export All Health Data": export.zip, its folder, or export.xml), imported into
the raw store as provider `apple_health` and modelled into the tidy tables under the same name."""

from health_pipeline.declarations import ImportRun, ImportSource, TidyInput
from health_pipeline.sources.apple_health.archive import ExportError
from health_pipeline.sources.apple_health.importer import import_export
from health_pipeline.sources.apple_health.settings import AppleHealthConfig


def _read(run: ImportRun) -> dict[str, object]:
    settings = run.settings
    assert isinstance(settings, AppleHealthConfig)
    summary = import_export(run.path, run.store, settings, run.progress)
    lines = summary.lines()
    for line in lines:
        run.log(line)
    return {**summary.as_metadata(), "summary": "\n".join(lines)}


_W = "window"

SOURCE = ImportSource(
    name="apple_health",
    package=__name__,
    settings=AppleHealthConfig,
    description=(
        "an Apple Health export (export.zip, its folder or export.xml), streamed into the raw store as provider "
        "`apple_health`, one record per HealthKit type and local day (attributes and metadata verbatim); modelled "
        "under the same provider, each minute counted once from the best-ranked source (`source_priority`), "
        "copies written by apps the project syncs itself left out (`exclude_apps`)."),
    read=_read,
    refuses=(ExportError,),
    models_as="apple_health",
    help="an Apple Health export: export.zip, the unpacked folder, or export.xml",
    tidy=(
        TidyInput("heart_rate", ("heart_rate",), _W),
        TidyInput("daily_activity", ("step_count", "distance_walking_running", "active_energy_burned",
                                     "basal_energy_burned", "flights_climbed", "resting_heart_rate"), _W),
        TidyInput("sleep_sessions", ("sleep_analysis",), _W),
        TidyInput("body_measurements", ("body_mass", "body_fat_percentage", "height", "blood_pressure_systolic",
                                        "blood_pressure_diastolic", "oxygen_saturation", "body_temperature"), _W),
        TidyInput("daily_vitals", ("heart_rate_variability_sdnn", "oxygen_saturation", "respiratory_rate",
                                   "vo2_max"), _W),
        TidyInput("workouts", ("workout",), _W),
    ),
    summary={"steps": 3, "distance_m": 3, "active_kcal": 3, "total_kcal": 3, "floors": 3, "resting_hr_bpm": 3,
             "asleep_s": 6, "time_in_bed_s": 6, "spo2_pct": 3, "respiratory_rate_brpm": 3, "vo2_max": 2,
             "weight_kg": 3, "fat_ratio_pct": 3},
)
