"""`daily_summary`: one row per local day, each metric from the best provider that has it that day.

"Best" is the configured precedence (`[summary]` in the config, one list of providers per
metric, best first). By default each source's declared rank per metric orders them
(`health_pipeline.config.summary_precedence`). A provider not in a metric's list is never used for
it. Next to each metric, `<metric>_provider` names the provider the value came from. The table is
derived from the other tidy tables only, and small (one row per day), so every materialization
rebuilds it whole: it is always consistent with them and with the current precedence.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import duckdb

from health_pipeline.storage.duckdb_store import scalar
from health_pipeline.tidy.catalog import Column


@dataclass(frozen=True)
class SummaryMetric:
    """A daily_summary metric: where its candidate values come from."""

    name: str
    type: str
    unit: str
    description: str
    table: str
    column: str
    where: str = "TRUE"  # which rows of `table` are candidates
    value_sql: str = ""  # how one day's value is computed from them (default: the column)
    pick: str = "max"  # several candidate rows of one provider and day: "max", "sum" or "last" (by measured_at)

    def candidates(self) -> str:
        """SELECT metric, provider, day, value: one candidate per provider and day."""
        value = self.value_sql or self.column
        if self.pick == "last":
            agg = f"arg_max({value}, measured_at)"
        else:
            agg = f"{self.pick}({value})"
        return (f"SELECT '{self.name}' AS metric, person, provider, day, CAST({agg} AS DOUBLE) AS value "
                f"FROM {self.table} WHERE ({self.where}) AND {value} IS NOT NULL GROUP BY person, provider, day")


METRICS: tuple[SummaryMetric, ...] = (
    SummaryMetric("steps", "BIGINT", "steps", "steps of the day", "daily_activity", "steps"),
    SummaryMetric("distance_m", "DOUBLE", "m", "distance of the day", "daily_activity", "distance_m"),
    SummaryMetric("active_kcal", "DOUBLE", "kcal", "active energy of the day", "daily_activity", "active_kcal"),
    SummaryMetric("total_kcal", "DOUBLE", "kcal", "total energy of the day", "daily_activity", "total_kcal"),
    SummaryMetric("floors", "DOUBLE", "floors", "floors climbed", "daily_activity", "floors"),
    SummaryMetric("resting_hr_bpm", "DOUBLE", "bpm", "resting heart rate", "daily_activity", "resting_hr_bpm"),
    SummaryMetric("asleep_s", "BIGINT", "s", "time asleep in the night's main sleep (ending on the day)",
                  "sleep_sessions", "asleep_s", where="is_main"),
    SummaryMetric("time_in_bed_s", "BIGINT", "s", "time in bed for the night's main sleep", "sleep_sessions",
                  "time_in_bed_s", where="is_main"),
    SummaryMetric("sleep_score", "INTEGER", "score 0-100", "sleep score", "daily_scores", "sleep_score"),
    SummaryMetric("readiness_score", "INTEGER", "score 0-100", "readiness score", "daily_scores", "readiness_score"),
    SummaryMetric("hrv_ms", "DOUBLE", "ms", "nightly heart-rate variability", "daily_vitals", "hrv_ms"),
    SummaryMetric("spo2_pct", "DOUBLE", "%", "nightly blood oxygen", "daily_vitals", "spo2_pct"),
    SummaryMetric("respiratory_rate_brpm", "DOUBLE", "breaths/min", "nightly breathing rate", "daily_vitals",
                  "respiratory_rate_brpm"),
    SummaryMetric("temperature_deviation_c", "DOUBLE", "degC", "nightly temperature deviation", "daily_vitals",
                  "temperature_deviation_c"),
    SummaryMetric("skin_temp_c", "DOUBLE", "degC", "nightly skin temperature", "daily_vitals", "skin_temp_c"),
    SummaryMetric("recovery_score", "INTEGER", "score 0-100", "recovery, from the night before", "daily_scores", "recovery_score"),
    SummaryMetric("strain", "DOUBLE", "strain 0-21", "day strain (cardiovascular load, logarithmic)", "daily_scores", "strain"),
    SummaryMetric("nightly_recharge_status", "INTEGER", "status 1-6", "Nightly Recharge status",
                  "daily_scores", "nightly_recharge_status"),
    SummaryMetric("ans_charge", "DOUBLE", "score -10..+10", "autonomic nervous system charge of the night",
                  "daily_scores", "ans_charge"),
    SummaryMetric("vo2_max", "DOUBLE", "ml/kg/min", "VO2 max estimate", "daily_vitals", "vo2_max"),
    SummaryMetric("weight_kg", "DOUBLE", "kg", "the day's last weigh-in", "body_measurements", "value",
                  where="metric = 'weight'", pick="last"),
    SummaryMetric("fat_ratio_pct", "DOUBLE", "%", "the day's last body-fat reading", "body_measurements", "value",
                  where="metric = 'fat_ratio'", pick="last"),
    SummaryMetric("strength_volume_kg", "DOUBLE", "kg", "lifted volume (weight x reps, warm-up sets excluded)",
                  "workout_sets", "weight_kg", where="set_type <> 'warmup'", value_sql="weight_kg * reps", pick="sum"),
)

METRIC_NAMES = tuple(m.name for m in METRICS)


def summary_columns() -> tuple[Column, ...]:
    """The documented columns of daily_summary."""
    columns = [Column("person", "VARCHAR", "id", "whose data it is", nullable=False),
               Column("day", "DATE", "local date", "the user's calendar day")]
    for m in METRICS:
        columns.append(Column(m.name, m.type, m.unit, f"{m.description} (from {m.table}.{m.column})"))
        columns.append(Column(f"{m.name}_provider", "VARCHAR", "-", f"the provider `{m.name}` was taken from"))
    return tuple(columns)


SUMMARY_DDL = "CREATE TABLE IF NOT EXISTS daily_summary (\n    " + ",\n    ".join(
    f"{c.name} {c.type}{' NOT NULL' if c.name in ('person', 'day') else ''}" for c in summary_columns()) + "\n)"


def rebuild_summary(conn: duckdb.DuckDBPyConnection, precedence: Mapping[str, tuple[str, ...]]) -> int:
    """Rebuild daily_summary from the other tidy tables (which `models.create_tables` made); returns its row count."""
    ranks = [f"('{metric}', '{provider}', {rank})" for metric in METRIC_NAMES
             for rank, provider in enumerate(precedence[metric])]
    candidates = "\nUNION ALL\n".join(m.candidates() for m in METRICS)
    picked = ",\n    ".join(
        f"max(value) FILTER (WHERE metric = '{m}') AS {m}, max(provider) FILTER (WHERE metric = '{m}') AS {m}_provider"
        for m in METRIC_NAMES)
    sql = f"""
WITH precedence(metric, provider, rank) AS (VALUES {', '.join(ranks) or "('', '', 0)"}),
candidates AS ({candidates}),
best AS (
    SELECT metric, person, provider, day, value FROM candidates JOIN precedence USING (metric, provider)
    QUALIFY row_number() OVER (PARTITION BY metric, person, day ORDER BY rank) = 1
)
SELECT person, day,
    {picked}
FROM best GROUP BY person, day
"""
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute("DELETE FROM daily_summary")
        conn.execute(f"INSERT INTO daily_summary BY NAME {sql}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return int(scalar(conn, "SELECT count(*) FROM daily_summary") or 0)
