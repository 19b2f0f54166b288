"""Data-quality checks on the tidy tables, as SQL: grain, plausible values, future days, raw counts, freshness.

Each function returns a `CheckOutcome` (passed, a one-line summary, a few offending rows) and
knows nothing of Dagster; the assets turn outcomes into asset-check results.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb

from health_pipeline.storage.duckdb_store import scalar
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.tidy.catalog import TidyTable
from health_pipeline.tidy.models import raw_relation, record_slices

DURATIONS = ("sedentary_s", "light_s", "moderate_s", "vigorous_s", "time_in_bed_s", "asleep_s", "deep_s", "rem_s",
             "awake_s", "duration_s", "stress_high_s", "recovery_high_s")
HEART_RATES = ("bpm", "hr_bpm", "resting_hr_bpm", "avg_hr_bpm", "lowest_hr_bpm")

# Rules that only some tables have: name -> SQL that is true for an implausible row.
SPECIAL_RULES: dict[str, dict[str, str]] = {
    "daily_activity": {"steps 0-100000": "steps NOT BETWEEN 0 AND 100000"},
    "heart_rate_zones": {"known zone": "zone NOT IN ('light', 'moderate', 'vigorous', 'peak')",
                         "at most a day in a zone": "duration_s > 90000"},
    "daily_summary": {"steps 0-100000": "steps NOT BETWEEN 0 AND 100000", "weight 20-300 kg": "weight_kg NOT BETWEEN 20 AND 300"},
    "sleep_sessions": {"stages add up to time asleep (within 60 s)": "abs(deep_s + light_s + rem_s - asleep_s) > 60",
                       "ends after it starts": "end_ts < start_ts"},
    "body_measurements": {"weight 20-300 kg": "metric = 'weight' AND value NOT BETWEEN 20 AND 300",
                          "percentages 0-100": "unit = '%' AND value NOT BETWEEN 0 AND 100"},
    "workouts": {"ends after it starts": "end_ts < start_ts"},
    "workout_sets": {"weight, reps, distance non-negative": "weight_kg < 0 OR reps < 0 OR distance_m < 0",
                     "RPE 1-10": "rpe NOT BETWEEN 1 AND 10"},
    "daily_scores": {"scores 0-100": "readiness_score NOT BETWEEN 0 AND 100 OR sleep_score NOT BETWEEN 0 AND 100 "
                                     "OR activity_score NOT BETWEEN 0 AND 100"},
    "daily_vitals": {"SpO2 50-100 %": "spo2_pct NOT BETWEEN 50 AND 100", "HRV non-negative": "hrv_ms < 0",
                     "breathing 4-60 /min": "respiratory_rate_brpm NOT BETWEEN 4 AND 60"},
}


@dataclass(frozen=True)
class CheckOutcome:
    """The result of one check on one table."""

    passed: bool
    summary: str
    metadata: dict[str, Any] = field(default_factory=dict)


def plausibility_rules(table: str, columns: list[str]) -> dict[str, str]:
    """Every rule for a table: heart rates 25-250 bpm, durations non-negative, and its special rules."""
    rules = {f"{c} 25-250 bpm": f"{c} NOT BETWEEN 25 AND 250" for c in columns if c in HEART_RATES}
    rules.update({f"{c} non-negative": f"{c} < 0" for c in columns if c in DURATIONS})
    rules.update(SPECIAL_RULES.get(table, {}))
    return rules


def unique_grain(conn: duckdb.DuckDBPyConnection, table: str, grain: tuple[str, ...]) -> CheckOutcome:
    keys = ", ".join(grain)
    dupes = conn.execute(f"SELECT {keys}, count(*) AS n FROM {table} GROUP BY ALL HAVING count(*) > 1 "
                         f"ORDER BY n DESC LIMIT 5").fetchall()
    total = scalar(conn, f"SELECT count(*) FROM (SELECT {keys} FROM {table} GROUP BY ALL HAVING count(*) > 1)")
    return CheckOutcome(not dupes, f"{total} duplicated ({keys}) keys" if dupes else f"({keys}) is unique",
                        {"duplicated_keys": int(total or 0), "examples": [str(d) for d in dupes]})


def plausible_values(conn: duckdb.DuckDBPyConnection, table: str) -> CheckOutcome:
    columns = [row[0] for row in conn.execute(f"DESCRIBE {table}").fetchall()]
    failures: dict[str, int] = {}
    examples: list[str] = []
    for name, condition in plausibility_rules(table, columns).items():
        bad = int(scalar(conn, f"SELECT count(*) FROM {table} WHERE coalesce({condition}, false)") or 0)
        if bad:
            failures[name] = bad
            rows = conn.execute(f"SELECT * FROM {table} WHERE coalesce({condition}, false) LIMIT 3").fetchall()
            examples += [str(dict(zip(columns, r))) for r in rows]
    summary = ("; ".join(f"{n}: {c} rows" for n, c in failures.items()) if failures
               else f"{len(plausibility_rules(table, columns))} rules hold")
    return CheckOutcome(not failures, summary, {"violations": failures or "none", "examples": examples[:5]})


def no_future_days(conn: duckdb.DuckDBPyConnection, table: str, today: date) -> CheckOutcome:
    bad = int(scalar(conn, f"SELECT count(*) FROM {table} WHERE day > ?", [today]) or 0)
    newest = scalar(conn, f"SELECT max(day) FROM {table}")
    return CheckOutcome(bad == 0, f"{bad} rows dated after {today}" if bad else f"newest day {newest}",
                        {"rows_in_future": bad, "today": today.isoformat(), "newest_day": str(newest)})


def rows_match_raw(conn: duckdb.DuckDBPyConnection, raw_store: RawStore, table: TidyTable) -> CheckOutcome:
    """Each provider's rows equal what its source yields from every live raw record (nothing unmodelled or stale)."""
    counts: dict[str, dict[str, int]] = {}
    for source in table.sources:
        expected = 0
        for records in record_slices(raw_store, source):
            conn.register("raw", raw_relation(records))
            try:
                expected += int(scalar(conn, f"SELECT count(*) FROM ({source.sql})") or 0)
            finally:
                conn.unregister("raw")
        actual = int(scalar(conn, f"SELECT count(*) FROM {table.name} WHERE provider = ?", [source.provider]) or 0)
        counts[source.provider] = {"rows": actual, "from_raw": expected}
    off = {p: c for p, c in counts.items() if c["rows"] != c["from_raw"]}
    summary = (", ".join(f"{p}: {c['rows']} rows, raw records give {c['from_raw']}" for p, c in off.items())
               + " (re-run the table's partitions, or `health-pipeline rebuild`)") if off else "row counts match the raw store"
    return CheckOutcome(not off, summary, {p: f"{c['rows']} rows / {c['from_raw']} from raw" for p, c in counts.items()})


def fresh(conn: duckdb.DuckDBPyConnection, table: TidyTable, providers: list[str], today: date) -> CheckOutcome:
    """Each enabled date-driven provider has rows within the table's allowed lag."""
    assert table.fresh_within_days is not None
    oldest_ok = today - timedelta(days=table.fresh_within_days)
    newest = {p: scalar(conn, f"SELECT max(day) FROM {table.name} WHERE provider = ?", [p]) for p in providers}
    stale = {p: d for p, d in newest.items() if d is None or d < oldest_ok}
    summary = (", ".join(f"{p}: newest day {d or 'none'}" for p, d in stale.items()) + f" (expected {oldest_ok} or later)"
               if stale else f"every provider has data since {oldest_ok}")
    return CheckOutcome(not stale, summary, {p: str(d) for p, d in newest.items()})
