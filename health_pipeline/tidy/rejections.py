"""Provider values outside the plausible range: kept out of the tidy rows and recorded, never fatal.

Devices and APIs send the odd impossible value (Oura's own documentation shows a sleep heart rate
of 4.25; a scale reports 0 kg). Such a value must not stop a table, and everything downstream, for
good. So every rebuild of a source, before it writes, applies the table's rules to the rows it
staged: a rule's columns are set NULL, or the row is left out when it means nothing without the
value (a heart-rate sample, a weigh-in, a sleep that ends before it starts). Each value kept out is a
row of `rejected_values`, kept in the same transaction as the table's rows, scoped like them (a
window rebuild replaces the window's rejections, a change-driven rebuild all of the provider's).
The warning check `plausible_values` reports them; nothing blocks.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

import duckdb

from health_pipeline.tidy.catalog import TidySource, TidyTable

Action = Literal["null", "drop"]

REJECTED_DDL = """
CREATE TABLE IF NOT EXISTS rejected_values (
    person       VARCHAR     NOT NULL,  -- whose data it is
    provider     VARCHAR     NOT NULL,  -- the provider that sent the value
    table_name   VARCHAR     NOT NULL,  -- the tidy table the value was meant for
    day          DATE,                  -- the row's local day
    key          VARCHAR     NOT NULL,  -- the row's grain (`ts=2026-11-07 11:00:30+00`)
    column_name  VARCHAR     NOT NULL,  -- the column(s) the rule judges
    value        VARCHAR,               -- the value as the provider sent it (several: `name=value, ...`)
    rule         VARCHAR     NOT NULL,  -- the rule it broke (`bpm 25-250 bpm`)
    raw_record   VARCHAR     NOT NULL,  -- the raw record it came from (`heart-rate/2026-11-07`; `x@day`: the x record of that day)
    action       VARCHAR     NOT NULL,  -- nulled (the row kept without it) or dropped (the row left out)
    rejected_at  TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""

HEART_RATES = ("bpm", "hr_bpm", "resting_hr_bpm", "avg_hr_bpm", "lowest_hr_bpm")
DURATIONS = ("sedentary_s", "light_s", "moderate_s", "vigorous_s", "time_in_bed_s", "asleep_s", "deep_s", "rem_s",
             "awake_s", "duration_s", "stress_high_s", "recovery_high_s")
# Tables whose rows are a single value: a heart-rate sample without its beat rate means nothing.
HEART_RATE_ROWS = ("heart_rate",)


@dataclass(frozen=True)
class Rule:
    """A plausibility rule: `condition` (SQL over a row) is true when the row's value is implausible."""

    name: str
    columns: tuple[str, ...]
    condition: str
    action: Action


def _rule(name: str, columns: str, condition: str, action: Action = "null") -> Rule:
    return Rule(name, tuple(columns.split()), condition, action)


SPECIAL_RULES: dict[str, tuple[Rule, ...]] = {
    "daily_activity": (_rule("steps 0-100000", "steps", "steps NOT BETWEEN 0 AND 100000"),),
    "heart_rate_zones": (_rule("known zone", "zone", "zone NOT IN ('light', 'moderate', 'vigorous', 'peak')", "drop"),
                         _rule("at most a day in a zone", "duration_s", "duration_s > 90000")),
    "sleep_sessions": (_rule("ends after it starts", "start_ts end_ts", "end_ts < start_ts", "drop"),
                       _rule("stages add up to time asleep (within 60 s)", "deep_s light_s rem_s",
                             "abs(deep_s + light_s + rem_s - asleep_s) > 60")),
    "body_measurements": (_rule("weight 20-300 kg", "value", "metric = 'weight' AND value NOT BETWEEN 20 AND 300", "drop"),
                          _rule("percentages 0-100", "value", "unit = '%' AND value NOT BETWEEN 0 AND 100", "drop")),
    "workouts": (_rule("ends after it starts", "start_ts end_ts", "end_ts < start_ts", "drop"),),
    "workout_sets": (_rule("weight non-negative", "weight_kg", "weight_kg < 0"),
                     _rule("reps non-negative", "reps", "reps < 0"),
                     _rule("distance non-negative", "distance_m", "distance_m < 0"),
                     _rule("RPE 1-10", "rpe", "rpe NOT BETWEEN 1 AND 10")),
    "daily_scores": (*(_rule(f"{c} 0-100", c, f"{c} NOT BETWEEN 0 AND 100")
                       for c in ("readiness_score", "sleep_score", "activity_score", "recovery_score")),
                     _rule("strain 0-21", "strain", "strain NOT BETWEEN 0 AND 21"),
                     _rule("nightly_recharge_status 1-6", "nightly_recharge_status", "nightly_recharge_status NOT BETWEEN 1 AND 6"),
                     _rule("ans_charge -10..+10", "ans_charge", "ans_charge NOT BETWEEN -10 AND 10")),
    "daily_vitals": (_rule("SpO2 50-100 %", "spo2_pct", "spo2_pct NOT BETWEEN 50 AND 100"),
                     _rule("HRV non-negative", "hrv_ms", "hrv_ms < 0"),
                     _rule("breathing 4-60 /min", "respiratory_rate_brpm", "respiratory_rate_brpm NOT BETWEEN 4 AND 60"),
                     _rule("skin temperature 25-45 degC", "skin_temp_c", "skin_temp_c NOT BETWEEN 25 AND 45")),
}


def rules_for(table: str, columns: Iterable[str], today: date | None = None) -> tuple[Rule, ...]:
    """Every rule of a table: no day after `today` (left out), heart rates 25-250 bpm, durations
    non-negative, and the table's own rules."""
    names = list(columns)
    rules: list[Rule] = []
    if today is not None and "day" in names:
        rules.append(_rule("dated after today", "day", f"day > DATE '{today.isoformat()}'", "drop"))
    rules += [_rule(f"{c} 25-250 bpm", c, f"{c} NOT BETWEEN 25 AND 250", "drop" if table in HEART_RATE_ROWS else "null")
              for c in names if c in HEART_RATES]
    rules += [_rule(f"{c} non-negative", c, f"{c} < 0") for c in names if c in DURATIONS]
    return (*rules, *SPECIAL_RULES.get(table, ()))


@dataclass(frozen=True)
class Rejected:
    """What one rebuild kept out of a table, per rule (for the check and the asset's metadata)."""

    counts: dict[str, int]
    examples: list[str]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


STAGED_REJECTIONS = "_rejected"


def reject_staged(conn: duckdb.DuckDBPyConnection, table: TidyTable, source: TidySource, today: date | None,
                  staged: str = "_staged", examples: int = 5) -> Rejected:
    """Apply the table's rules to the rows staged in `staged`: record each rejected value in a temp
    table `_rejected` (shaped like `rejected_values`), then null it or drop its row in `staged`."""
    conn.execute(REJECTED_DDL)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE {STAGED_REJECTIONS} AS SELECT * FROM rejected_values LIMIT 0")
    columns = [c.name for c in table.columns]
    key = " || ', ' || ".join(f"'{c}=' || coalesce(CAST({c} AS VARCHAR), 'NULL')" for c in table.grain
                              if c not in ("person", "provider"))
    day = "day" if "day" in columns else "CAST(NULL AS DATE)"
    counts: dict[str, int] = {}
    for rule in rules_for(table.name, columns, today):
        where = f"coalesce({rule.condition}, false)"
        value = (f"CAST({rule.columns[0]} AS VARCHAR)" if len(rule.columns) == 1 else
                 " || ', ' || ".join(f"'{c}=' || coalesce(CAST({c} AS VARCHAR), 'NULL')" for c in rule.columns))
        raw = source.raw_record_sql.replace("{resource}", source.resources_of(rule.columns[0]))
        action = "dropped" if rule.action == "drop" else "nulled"
        found = conn.execute(
            f"INSERT INTO {STAGED_REJECTIONS} (person, provider, table_name, day, key, column_name, value, rule, raw_record, "
            f"action, rejected_at) SELECT person, provider, '{table.name}', {day}, {key}, '{', '.join(rule.columns)}', {value}, ?, {raw}, "
            f"'{action}', now() FROM {staged} WHERE {where}", [rule.name]).fetchall()
        if not found or not found[0][0]:
            continue
        counts[rule.name] = int(found[0][0])
        if rule.action == "drop":
            conn.execute(f"DELETE FROM {staged} WHERE {where}")
        else:
            conn.execute(f"UPDATE {staged} SET {', '.join(f'{c} = NULL' for c in rule.columns)} WHERE {where}")
    shown = conn.execute(f"SELECT provider, key, column_name, value, rule, raw_record FROM {STAGED_REJECTIONS} "
                         f"ORDER BY day DESC NULLS LAST, key LIMIT {examples}").fetchall()
    return Rejected(counts, [f"{p} {k}: {c} = {v} ({r}; raw record {raw})" for p, k, c, v, r, raw in shown])
