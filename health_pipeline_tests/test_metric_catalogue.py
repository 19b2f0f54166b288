"""The metric catalogue: names, labels and sources that the export, the README and `lineage` share."""

import re
from functools import partial

import duckdb

from health_pipeline.export import lineage
from health_pipeline.export.lineage import metric_table
from health_pipeline.export.metrics import CATALOGUE, METRIC_NAMES, metrics_for
from health_pipeline.registry import ALL_TABLES, REGISTRY, TABLES
from health_pipeline.settings import RESERVED_LABELS
from health_pipeline.tidy.summary import SUMMARY_DDL
from health_pipeline_tests.test_definitions import REPO

describe = partial(lineage.describe, REGISTRY)  # the registered sources' lineage
lineage_line = partial(lineage.lineage_line, REGISTRY)


def test_every_tidy_table_has_an_exported_metric_and_every_metric_reads_real_columns() -> None:
    assert {m.table for m in CATALOGUE} == set(ALL_TABLES)
    with duckdb.connect() as conn:
        for table in TABLES.values():
            conn.execute(table.ddl)
        conn.execute(SUMMARY_DDL)
        for m in CATALOGUE:  # every expression binds against its table
            labels = "".join(f", {sql}" for _, sql in m.labels)
            conn.execute(f"SELECT {m.provider_column}, day, {m.value_sql}{labels} FROM {m.table} WHERE {m.where}")
            assert m.time == "day" or m.time in {c.name for c in ALL_TABLES[m.table].columns}, m.name


def test_names_are_prometheus_names_and_labels_stay_clear_of_the_reserved_ones() -> None:
    assert all(re.fullmatch(r"(health|fitbit)_[a-z0-9_]+", name) for name in METRIC_NAMES)
    assert len(METRIC_NAMES) == 101 and len(metrics_for(False)) == len(CATALOGUE) - 12
    assert {label for m in CATALOGUE for label in m.label_names} == set(RESERVED_LABELS)
    assert {m.name for m in metrics_for(True) if m.family == "syncbit"} == {
        "fitbit_steps_total", "fitbit_distance_km", "fitbit_calories_total", "fitbit_active_minutes",
        "fitbit_floors_total", "fitbit_elevation_meters", "fitbit_resting_heart_rate_bpm",
        "fitbit_heart_rate_zone_minutes", "fitbit_heart_rate_zone_calories"}


def test_the_readme_metric_table_is_the_catalogue() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert metric_table() in readme, "regenerate it with `health-pipeline lineage --markdown`"


def test_lineage_goes_from_metric_to_endpoint() -> None:
    assert describe("health_body_weight_kg").splitlines() == [
        "health_body_weight_kg  [kg]  Body measurement `weight`, at the time it was taken.",
        "  labels: provider, user; stamped at the measurement's instant",
        "  <- body_measurements.value  [see unit]  the measured value  (rows where metric = 'weight')",
        "       <- fitbit    fitbit_weight : weight.weightGrams  <- GET /v4/users/me/dataTypes/weight/dataPoints",
        "       <- fitbit    fitbit_body_fat : bodyFat.percentage  <- GET /v4/users/me/dataTypes/body-fat/dataPoints",
        "       <- withings  withings_measures : measures[].value  <- POST /measure action=getmeas",
        "       <- withings  withings_measures : measures[].unit  <- POST /measure action=getmeas",
        "       <- polar     polar_physical_information : weight  <- POST /users/{user-id}/physical-information-transactions",
        "       <- polar     polar_physical_information : height  <- POST /users/{user-id}/physical-information-transactions",
        "       <- polar     polar_physical_information : vo2-max  <- POST /users/{user-id}/physical-information-transactions",
        "       <- fitbit_takeout import_fitbit_takeout : item.weight  <- Fitbit export: weight files",
        "       <- fitbit_takeout import_fitbit_takeout : item.fat  <- Fitbit export: weight files",
        "       <- fitbit_takeout import_fitbit_takeout : rows[].weight grams  <- Fitbit export: google_weight files",
        "       <- fitbit_takeout import_fitbit_takeout : rows[].body fat percentage  <- Fitbit export: google_body_fat files",
        "       <- fitbit_takeout import_fitbit_takeout : rows[].height millimeters  <- Fitbit export: google_height files",
        "       <- fitbit_takeout import_fitbit_takeout : rows[].temperature celsius  <- Fitbit export: google_body_temperature files",
        *(f"       <- garmin_export import_garmin_export : item.weight.{field}  <- Garmin export: biometrics files"
          for field in ("weight", "bodyFat", "muscleMass", "boneMass")),
        "       <- apple_health import_apple_health : records[].value  <- Apple Health export: body_mass files",
        "       <- apple_health import_apple_health : records[].unit  <- Apple Health export: body_mass files",
        *(f"       <- apple_health import_apple_health : records[].value  <- Apple Health export: {t} files"
          for t in ("body_fat_percentage", "height", "blood_pressure_systolic", "blood_pressure_diastolic",
                    "oxygen_saturation", "body_temperature")),
    ]


def test_lineage_line_names_tidy_columns_raw_fields_and_requests() -> None:
    assert lineage_line("health_summary_steps") == (
        "Lineage: daily_summary.steps <- daily_activity.steps <- "
        "oura_daily_activity.steps (GET /v2/usercollection/daily_activity); "
        "fitbit_steps.steps.countSum (POST /v4/users/me/dataTypes/steps/dataPoints:dailyRollUp); "
        "withings_activity.steps (POST /v2/measure action=getactivity); "
        "polar_activities.steps (GET /users/activities); "
        "import_fitbit_takeout.rows[].value (Fitbit export: steps files); "
        "import_fitbit_takeout.rows[].steps (Fitbit export: google_steps files); "
        "import_garmin_export.totalSteps (Garmin export: uds files); "
        "import_apple_health.records[].value (Apple Health export: step_count files).")
    assert lineage_line("fitbit_heart_rate_zone_minutes") == (
        "Lineage: heart_rate_zones.duration_s <- fitbit_time_in_heart_rate_zone."
        "timeInHeartRateZone.timeInHeartRateZones[].duration "
        "(POST /v4/users/me/dataTypes/time-in-heart-rate-zone/dataPoints:dailyRollUp).")
