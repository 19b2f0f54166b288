"""The metric catalogue: every exported series family as data.

Each `Metric` names the tidy table and columns its value is read from, the labels its series
carry, its unit, when its samples are stamped and what it means. The catalogue drives the
export (`exporter.py`), the README's metric table and `health-pipeline lineage`.

Two families:
- "health": provider-neutral names, labels `provider` and `user` (plus `[victoriametrics]
  extra_labels`). Every provider's rows are exported.
- "syncbit": with `syncbit_compat`, the Fitbit rows again under SyncBit's names and labels
  (`user`, `device`, and `type` or `zone`), so dashboards built for SyncBit keep working.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from health_pipeline.tidy.summary import METRICS as SUMMARY_METRICS

SYNCBIT_PROVIDER = "fitbit"  # SyncBit's names carry this source's rows only

Family = Literal["health", "syncbit"]


@dataclass(frozen=True)
class Metric:
    """One exported series family.

    time: "day" stamps a sample at 00:00 of the row's `day` in the user's time zone; any other
    value names the row's TIMESTAMPTZ column the sample is stamped at.
    value: SQL over the row for the sample's value (default: the only column).
    labels: (label, SQL) pairs beyond the family's own labels; the SQL is a column or a constant.
    aggregate: when set, rows are summed per series and timestamp (training volume per day).
    """

    name: str
    table: str
    columns: tuple[str, ...]
    unit: str
    help: str
    time: str = "day"
    value: str = ""
    where: str = "TRUE"
    labels: tuple[tuple[str, str], ...] = ()
    aggregate: bool = False
    family: Family = "health"
    provider_column: str = "provider"  # daily_summary: the `<metric>_provider` column

    @property
    def value_sql(self) -> str:
        return self.value or self.columns[0]

    @property
    def providers(self) -> tuple[str, ...] | None:
        """The only providers whose rows are exported (None: all)."""
        return (SYNCBIT_PROVIDER,) if self.family == "syncbit" else None

    @property
    def label_names(self) -> tuple[str, ...]:
        base = ("user", "device") if self.family == "syncbit" else ("provider", "user")
        return base + tuple(label for label, _ in self.labels)

    @property
    def stamped(self) -> str:
        """The timestamp rule in words (for the README and `lineage`)."""
        if self.time == "day":
            return "00:00 of the day, local time"
        return {"ts": "the sample's instant", "end_ts": "the sleep's end", "start_ts": "the workout's start",
                "measured_at": "the measurement's instant"}.get(self.time, self.time)


def _each(name: str, table: str, label: str, unit: str, help: str, variants: Iterable[tuple[str, str]],
          value: str = "", more_labels: tuple[tuple[str, str], ...] = (), **kwargs: object) -> list[Metric]:
    """One metric name over several columns told apart by a label: (label value, column) pairs.

    `value` is a template for the value SQL, `{column}` standing for each column.
    """
    return [Metric(name, table, (column,), unit, help, value=value.format(column=column),  # type: ignore[arg-type]
                   labels=((label, f"'{label_value}'"), *more_labels), **kwargs)
            for label_value, column in variants]


_STAGES = (("in_bed", "time_in_bed_s"), ("asleep", "asleep_s"), ("deep", "deep_s"), ("light", "light_s"),
           ("rem", "rem_s"), ("awake", "awake_s"))
# main, nap, or unknown when the provider does not say (an Oura sleep whose `type` is null)
_SLEEP_TYPE = ("type", "CASE WHEN is_main THEN 'main' WHEN NOT is_main THEN 'nap' ELSE 'unknown' END")

# body_measurements.metric -> the metric name's stem and unit suffix
BODY: tuple[tuple[str, str, str], ...] = (
    ("weight", "weight_kg", "kg"), ("height", "height_meters", "m"), ("fat_ratio", "fat_ratio_percent", "%"),
    ("fat_mass", "fat_mass_kg", "kg"),
    ("fat_free_mass", "fat_free_mass_kg", "kg"), ("muscle_mass", "muscle_mass_kg", "kg"),
    ("bone_mass", "bone_mass_kg", "kg"), ("hydration", "hydration_kg", "kg"),
    ("extracellular_water", "extracellular_water_kg", "kg"), ("intracellular_water", "intracellular_water_kg", "kg"),
    ("visceral_fat", "visceral_fat_index", "1"), ("basal_metabolic_rate", "basal_metabolic_rate_kcal", "kcal"),
    ("metabolic_age", "metabolic_age_years", "years"), ("vascular_age", "vascular_age_years", "years"),
    ("systolic_bp", "systolic_bp_mmhg", "mmHg"), ("diastolic_bp", "diastolic_bp_mmhg", "mmHg"),
    ("heart_pulse", "heart_pulse_bpm", "bpm"), ("spo2", "spo2_percent", "%"),
    ("temperature", "temperature_celsius", "degC"), ("body_temperature", "body_temperature_celsius", "degC"),
    ("skin_temperature", "skin_temperature_celsius", "degC"),
    ("pulse_wave_velocity", "pulse_wave_velocity_meters_per_second", "m/s"),
    ("vo2_max", "vo2_max_ml_per_min_kg", "ml/min/kg"),
)

# Segmental body composition (Withings Body Scan): body_measurements metric `<stem>_<segment>`.
BODY_SEGMENTS: tuple[tuple[str, str], ...] = (
    ("fat_free_mass", "Fat-free mass"), ("fat_mass", "Fat mass"), ("muscle_mass", "Muscle mass"))

# daily_summary column -> its metric name
SUMMARY_NAMES = {
    "steps": "health_summary_steps", "distance_m": "health_summary_distance_meters",
    "active_kcal": "health_summary_active_energy_kcal", "total_kcal": "health_summary_total_energy_kcal",
    "floors": "health_summary_floors", "resting_hr_bpm": "health_summary_resting_heart_rate_bpm",
    "asleep_s": "health_summary_asleep_seconds", "time_in_bed_s": "health_summary_time_in_bed_seconds",
    "sleep_score": "health_summary_sleep_score", "readiness_score": "health_summary_readiness_score",
    "hrv_ms": "health_summary_hrv_ms", "spo2_pct": "health_summary_spo2_percent",
    "respiratory_rate_brpm": "health_summary_respiratory_rate_per_minute",
    "temperature_deviation_c": "health_summary_temperature_deviation_celsius",
    "vo2_max": "health_summary_vo2_max_ml_per_kg_min", "weight_kg": "health_summary_body_weight_kg",
    "fat_ratio_pct": "health_summary_body_fat_ratio_percent", "strength_volume_kg": "health_summary_training_volume_kg",
    "skin_temp_c": "health_summary_skin_temperature_celsius", "recovery_score": "health_summary_recovery_score",
    "strain": "health_summary_strain", "nightly_recharge_status": "health_summary_nightly_recharge_status",
    "ans_charge": "health_summary_ans_charge",
}

# SyncBit's zone names for Fitbit's four heart-rate zones, lowest first
SYNCBIT_ZONES = {"light": "out_of_range", "moderate": "fat_burn", "vigorous": "cardio", "peak": "peak"}
_SYNCBIT_ZONE_SQL = "CASE zone " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in SYNCBIT_ZONES.items()) + " END"



def _catalogue() -> tuple[Metric, ...]:
    m: list[Metric] = [
        # daily_activity
        Metric("health_steps", "daily_activity", ("steps",), "steps", "Steps over the day."),
        Metric("health_distance_meters", "daily_activity", ("distance_m",), "m", "Distance walked or run over the day."),
        Metric("health_active_energy_kcal", "daily_activity", ("active_kcal",), "kcal",
               "Energy burned by activity over the day, basal excluded."),
        Metric("health_total_energy_kcal", "daily_activity", ("total_kcal",), "kcal",
               "Energy burned over the day, basal included."),
        Metric("health_floors", "daily_activity", ("floors",), "floors", "Floors climbed over the day."),
        Metric("health_elevation_gain_meters", "daily_activity", ("elevation_gain_m",), "m",
               "Height gained by climbing over the day."),
        *_each("health_activity_seconds", "daily_activity", "level", "s", "Time per activity level over the day.",
               (("sedentary", "sedentary_s"), ("light", "light_s"), ("moderate", "moderate_s"),
                ("vigorous", "vigorous_s"))),
        Metric("health_resting_heart_rate_bpm", "daily_activity", ("resting_hr_bpm",), "bpm",
               "Resting heart rate of the day."),
        Metric("health_equivalent_walking_distance_meters", "daily_activity", ("equivalent_walking_distance_m",), "m",
               "The walking distance that would burn the day's energy (the ring's own estimate); not distance covered."),
        # heart_rate, heart_rate_zones
        Metric("health_heart_rate_bpm", "heart_rate", ("bpm",), "bpm", "Heart-rate samples.", time="ts"),
        Metric("health_heart_rate_zone_seconds", "heart_rate_zones", ("duration_s",), "s",
               "Time per heart-rate zone over the day.", labels=(("zone", "zone"),)),
        Metric("health_heart_rate_zone_kcal", "heart_rate_zones", ("kcal",), "kcal",
               "Energy burned per heart-rate zone over the day.", labels=(("zone", "zone"),)),
        # sleep_sessions, sleep_samples
        *_each("health_sleep_seconds", "sleep_sessions", "stage", "s",
               "Time per sleep stage (in_bed, asleep, deep, light, rem, awake) of one sleep; `type` main or nap.",
               _STAGES, more_labels=(_SLEEP_TYPE,), time="end_ts"),
        Metric("health_sleep_heart_rate_avg_bpm", "sleep_sessions", ("avg_hr_bpm",), "bpm",
               "Average heart rate during one sleep.", time="end_ts", labels=(_SLEEP_TYPE,)),
        Metric("health_sleep_heart_rate_lowest_bpm", "sleep_sessions", ("lowest_hr_bpm",), "bpm",
               "Lowest heart rate during one sleep.", time="end_ts", labels=(_SLEEP_TYPE,)),
        Metric("health_sleep_hrv_avg_ms", "sleep_sessions", ("avg_hrv_ms",), "ms",
               "Average heart-rate variability (RMSSD) during one sleep.", time="end_ts", labels=(_SLEEP_TYPE,)),
        Metric("health_sleep_sample_heart_rate_bpm", "sleep_samples", ("hr_bpm",), "bpm",
               "Five-minute heart rate inside a sleep.", time="ts"),
        Metric("health_sleep_sample_hrv_ms", "sleep_samples", ("hrv_ms",), "ms",
               "Five-minute heart-rate variability (RMSSD) inside a sleep.", time="ts"),
        # daily_scores, daily_vitals
        Metric("health_readiness_score", "daily_scores", ("readiness_score",), "score 0-100", "Readiness score of the day."),
        Metric("health_sleep_score", "daily_scores", ("sleep_score",), "score 0-100",
               "Sleep score of the night ending on the day."),
        Metric("health_activity_score", "daily_scores", ("activity_score",), "score 0-100", "Activity score of the day."),
        Metric("health_recovery_score", "daily_scores", ("recovery_score",), "score 0-100",
               "Recovery of the day, from the night before."),
        Metric("health_strain", "daily_scores", ("strain",), "strain 0-21",
               "Day strain: cardiovascular load of the day, on a logarithmic 0-21 scale."),
        Metric("health_nightly_recharge_status", "daily_scores", ("nightly_recharge_status",), "status 1-6",
               "Nightly Recharge status: 1 very poor .. 6 very good."),
        Metric("health_ans_charge", "daily_scores", ("ans_charge",), "score -10..+10",
               "Autonomic nervous system charge of the night."),
        Metric("health_hrv_ms", "daily_vitals", ("hrv_ms",), "ms", "Average nightly heart-rate variability (RMSSD)."),
        Metric("health_hrv_sdnn_ms", "daily_vitals", ("hrv_sdnn_ms",), "ms",
               "Heart-rate variability as SDNN (Apple Watch): not comparable with the RMSSD of health_hrv_ms."),
        Metric("health_spo2_percent", "daily_vitals", ("spo2_pct",), "%", "Average nightly blood oxygen saturation."),
        Metric("health_breathing_disturbance_index", "daily_vitals", ("breathing_disturbance_index",), "events/h",
               "Breathing disturbances per hour of sleep."),
        Metric("health_respiratory_rate_per_minute", "daily_vitals", ("respiratory_rate_brpm",), "breaths/min",
               "Average nightly breathing rate."),
        Metric("health_temperature_deviation_celsius", "daily_vitals", ("temperature_deviation_c",), "degC",
               "Nightly skin temperature minus the personal baseline."),
        Metric("health_stress_high_seconds", "daily_vitals", ("stress_high_s",), "s", "Time in high stress."),
        Metric("health_recovery_high_seconds", "daily_vitals", ("recovery_high_s",), "s", "Time in high recovery."),
        Metric("health_vo2_max_ml_per_kg_min", "daily_vitals", ("vo2_max",), "ml/kg/min", "Estimated VO2 max."),
        Metric("health_nightly_resting_heart_rate_bpm", "daily_vitals", ("resting_hr_bpm",), "bpm",
               "Resting heart rate measured in the night ending on the day."),
        Metric("health_skin_temperature_celsius", "daily_vitals", ("skin_temp_c",), "degC",
               "Nightly skin temperature (absolute)."),
        # body_measurements
        *(Metric(f"health_body_{stem}", "body_measurements", ("value",), unit,
                 f"Body measurement `{metric}`, at the time it was taken.", time="measured_at",
                 where=f"metric = '{metric}'") for metric, stem, unit in BODY),
        *(Metric(f"health_body_segment_{stem}_kg", "body_measurements", ("value",), "kg",
                 f"{what} of one body segment (Body Scan), at the time it was measured; `segment` names it.",
                 time="measured_at", where=f"segment IS NOT NULL AND metric = '{stem}_' || segment",
                 labels=(("segment", "segment"),)) for stem, what in BODY_SEGMENTS),
        # workouts, workout_sets
        Metric("health_workout_duration_seconds", "workouts", ("duration_s",), "s",
               "Active duration of one workout, by activity.", time="start_ts", labels=(("activity", "activity"),)),
        Metric("health_workout_active_kcal", "workouts", ("active_kcal",), "kcal",
               "Energy burned in one workout, by activity.", time="start_ts", labels=(("activity", "activity"),)),
        Metric("health_workout_distance_meters", "workouts", ("distance_m",), "m",
               "Distance covered in one workout, by activity.", time="start_ts", labels=(("activity", "activity"),)),
        Metric("health_workout_heart_rate_avg_bpm", "workouts", ("avg_hr_bpm",), "bpm",
               "Average heart rate in one workout, by activity.", time="start_ts", labels=(("activity", "activity"),)),
        Metric("health_training_volume_kg", "workout_sets", ("weight_kg", "reps"), "kg",
               "Lifted volume of the day: weight x reps over every set, warm-up sets excluded.",
               value="weight_kg * reps", where="set_type <> 'warmup' AND weight_kg * reps IS NOT NULL", aggregate=True),
        Metric("health_training_sets", "workout_sets", ("set_type",), "sets",
               "Sets logged over the day, warm-up sets excluded.", value="1", where="set_type <> 'warmup'",
               aggregate=True),
        Metric("health_training_reps", "workout_sets", ("reps",), "reps",
               "Repetitions over the day, warm-up sets excluded.", where="set_type <> 'warmup' AND reps IS NOT NULL",
               aggregate=True),
        # daily_summary: one value per day from the best provider (the `provider` label names it)
        *(Metric(SUMMARY_NAMES[s.name], "daily_summary", (s.name,), s.unit,
                 f"daily_summary.{s.name}: {s.description}, from the first provider of the `[summary]` list that has it.",
                 provider_column=f"{s.name}_provider") for s in SUMMARY_METRICS),
        # SyncBit's names for the Fitbit series
        Metric("fitbit_steps_total", "daily_activity", ("steps",), "steps", "SyncBit: steps of the day.",
               family="syncbit"),
        Metric("fitbit_distance_km", "daily_activity", ("distance_m",), "km", "SyncBit: distance of the day.",
               value="distance_m / 1000", family="syncbit"),
        Metric("fitbit_calories_total", "daily_activity", ("total_kcal",), "kcal",
               "SyncBit: energy burned over the day, basal included.", family="syncbit"),
        *_each("fitbit_active_minutes", "daily_activity", "type", "min", "SyncBit: minutes per activity level.",
               (("sedentary", "sedentary_s"), ("lightly_active", "light_s"), ("fairly_active", "moderate_s"),
                ("very_active", "vigorous_s")), value="{column} / 60", family="syncbit"),
        Metric("fitbit_floors_total", "daily_activity", ("floors",), "floors", "SyncBit: floors climbed.",
               family="syncbit"),
        Metric("fitbit_elevation_meters", "daily_activity", ("elevation_gain_m",), "m",
               "SyncBit: height climbed over the day.", family="syncbit"),
        Metric("fitbit_resting_heart_rate_bpm", "daily_activity", ("resting_hr_bpm",), "bpm",
               "SyncBit: resting heart rate.", family="syncbit"),
        Metric("fitbit_heart_rate_zone_minutes", "heart_rate_zones", ("duration_s",), "min",
               "SyncBit: minutes per heart-rate zone (out_of_range, fat_burn, cardio, peak).",
               value="duration_s / 60", labels=(("zone", _SYNCBIT_ZONE_SQL),), family="syncbit"),
        Metric("fitbit_heart_rate_zone_calories", "heart_rate_zones", ("kcal",), "kcal",
               "SyncBit: energy burned per heart-rate zone.", labels=(("zone", _SYNCBIT_ZONE_SQL),), family="syncbit"),
    ]
    return tuple(m)


CATALOGUE: tuple[Metric, ...] = _catalogue()
METRIC_NAMES: tuple[str, ...] = tuple(dict.fromkeys(m.name for m in CATALOGUE))


def metrics_for(syncbit_compat: bool) -> tuple[Metric, ...]:
    """The series families a configuration exports."""
    return tuple(m for m in CATALOGUE if m.family == "health" or syncbit_compat)


def named(name: str) -> tuple[Metric, ...]:
    """Every catalogue entry of one metric name (several when a label tells columns apart)."""
    return tuple(m for m in CATALOGUE if m.name == name)
