"""Data-quality checks on the tidy tables, as SQL: grain, implausible values, future days, raw counts, freshness.

Each function returns a `CheckOutcome` (passed, a one-line summary, a few offending rows) and
knows nothing of Dagster; the assets turn outcomes into asset-check results.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb

from health_pipeline.storage.duckdb_store import scalar
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.tidy.catalog import TidyTable
from health_pipeline.tidy.models import DISAGREEMENTS_DDL, drop_group_staging, ordered, raw_relation, record_slices, stage_group
from health_pipeline.tidy.rejections import Rejected, rules_for


@dataclass(frozen=True)
class CheckOutcome:
    """The result of one check on one table."""

    passed: bool
    summary: str
    metadata: dict[str, Any] = field(default_factory=dict)


def unique_grain(conn: duckdb.DuckDBPyConnection, table: str, grain: tuple[str, ...]) -> CheckOutcome:
    keys = ", ".join(grain)
    dupes = conn.execute(f"SELECT {keys}, count(*) AS n FROM {table} GROUP BY ALL HAVING count(*) > 1 "
                         f"ORDER BY n DESC LIMIT 5").fetchall()
    total = scalar(conn, f"SELECT count(*) FROM (SELECT {keys} FROM {table} GROUP BY ALL HAVING count(*) > 1)")
    return CheckOutcome(not dupes, f"{total} duplicated ({keys}) keys" if dupes else f"({keys}) is unique",
                        {"duplicated_keys": int(total or 0), "examples": [str(d) for d in dupes]})


def plausible_values(conn: duckdb.DuckDBPyConnection, table: str, rejected: Mapping[str, Rejected]) -> CheckOutcome:
    """The values this run kept out of `table` (`rejected`: per provider), as a warning: each was set
    NULL or its row left out, and recorded in `rejected_values`; the run went on."""
    kept_out = {provider: r for provider, r in rejected.items() if r.total}
    in_table = int(scalar(conn, "SELECT count(*) FROM rejected_values WHERE table_name = ?", [table]) or 0)
    metadata: dict[str, Any] = {
        "rejected_this_run": {p: dict(r.counts) for p, r in kept_out.items()} or "none",
        "rejected_in_table": in_table,
        "examples": [example for r in kept_out.values() for example in r.examples][:5],
        "where": "SELECT * FROM rejected_values WHERE table_name = '" + table + "'",
    }
    if not kept_out:
        return CheckOutcome(True, f"no implausible value in this run ({in_table} kept out of {table} before)"
                            if in_table else "no implausible value", metadata)
    parts = [f"{p}: " + ", ".join(f"{rule} ({n})" for rule, n in r.counts.items()) for p, r in kept_out.items()]
    total = sum(r.total for r in kept_out.values())
    summary = (f"{total} implausible value{'s' if total != 1 else ''} kept out of {table} (NULL, or the row left out) "
               f"and recorded in rejected_values: " + "; ".join(parts))
    return CheckOutcome(False, summary, metadata)


def plausible_summary(conn: duckdb.DuckDBPyConnection, table: str) -> CheckOutcome:
    """daily_summary's values against the same rules (it is made of the checked tables, so this holds)."""
    columns = [row[0] for row in conn.execute(f"DESCRIBE {table}").fetchall()]
    rules = rules_for(table, columns)
    failures: dict[str, int] = {}
    for rule in rules:
        bad = int(scalar(conn, f"SELECT count(*) FROM {table} WHERE coalesce({rule.condition}, false)") or 0)
        if bad:
            failures[rule.name] = bad
    summary = "; ".join(f"{n}: {c} rows" for n, c in failures.items()) if failures else f"{len(rules)} rules hold"
    return CheckOutcome(not failures, summary, {"violations": failures or "none"})


def no_future_days(conn: duckdb.DuckDBPyConnection, table: str, today: date) -> CheckOutcome:
    bad = int(scalar(conn, f"SELECT count(*) FROM {table} WHERE day > ?", [today]) or 0)
    newest = scalar(conn, f"SELECT max(day) FROM {table}")
    return CheckOutcome(bad == 0, f"{bad} rows dated after {today}" if bad else f"newest day {newest}",
                        {"rows_in_future": bad, "today": today.isoformat(), "newest_day": str(newest)})


def rows_match_raw(conn: duckdb.DuckDBPyConnection, raw_store: RawStore, table: TidyTable,
                   precedence: Mapping[str, Sequence[str]] | None = None,
                   windows: Sequence[tuple[date, date]] | None = None,
                   providers: Sequence[str] | None = None) -> CheckOutcome:
    """Each provider's rows equal what its source yields from the live raw records (nothing unmodelled or
    stale). With `windows`, a date-driven provider is compared on those local days only (what the run
    re-modelled: a day's run must not re-model ten years of history to check itself), a change-driven
    one whole; with `providers` (raw providers), only the groups they feed."""
    counts: dict[str, dict[str, int]] = {}
    spans: Sequence[tuple[date | None, date | None]] = windows if windows is not None else [(None, None)]
    for provider, members in table.groups().items():
        if providers is not None and provider not in providers and not any(m.provider in providers for m in members):
            continue
        dated = all(m.driver == "window" for m in members)
        checked = spans if dated else [(None, None)]
        expected = dropped = actual = 0
        for start, end in checked:
            days = " AND day BETWEEN ? AND ?" if start is not None else ""
            window: list[object] = [start, end] if start is not None else []
            scope, params = "person = ? AND provider = ?" + days, [raw_store.person, provider, *window]
            if len(members) > 1:  # an API and its archive: the merged rows (rejections already applied)
                try:
                    stage_group(conn, raw_store, table, ordered(members, (precedence or {}).get(provider)), start, end)
                    expected += int(scalar(conn, f"SELECT count(*) FROM _staged WHERE true{days}", window) or 0)
                finally:
                    drop_group_staging(conn, len(members))
            else:
                source = members[0]
                for records in record_slices(raw_store, source, start, end):
                    conn.register("raw", raw_relation(records))
                    try:
                        expected += int(scalar(conn, f"SELECT count(*) FROM ({source.sql}) WHERE true{days}", window) or 0)
                    finally:
                        conn.unregister("raw")
                dropped += int(scalar(conn, f"SELECT count(*) FROM rejected_values WHERE table_name = ? AND {scope} "
                                            "AND action = 'dropped'", [table.name, *params]) or 0)
            actual += int(scalar(conn, f"SELECT count(*) FROM {table.name} WHERE {scope}", params) or 0)
        counts[provider] = {"rows": actual, "from_raw": expected - dropped}
    off = {p: c for p, c in counts.items() if c["rows"] != c["from_raw"]}
    summary = (", ".join(f"{p}: {c['rows']} rows, raw records give {c['from_raw']}" for p, c in off.items())
               + " (re-run the table's partitions, or `health-pipeline rebuild`)") if off else "row counts match the raw store"
    return CheckOutcome(not off, summary, {p: f"{c['rows']} rows / {c['from_raw']} from raw" for p, c in counts.items()})


def origins_agree(conn: duckdb.DuckDBPyConnection, table: TidyTable, tolerance_pct: float,
                  examples: int = 5) -> CheckOutcome:
    """Days where two sources of one provider (the Fitbit API and a Takeout archive) both have data and
    their `compare` measure differs beyond the tolerance (a warning: one of them was kept, by precedence)."""
    conn.execute(DISAGREEMENTS_DDL)
    total = int(scalar(conn, "SELECT count(*) FROM origin_disagreements WHERE table_name = ?", [table.name]) or 0)
    rows = conn.execute(
        "SELECT provider, day, measure, kept_source, kept_value, other_source, other_value FROM origin_disagreements "
        "WHERE table_name = ? ORDER BY day DESC LIMIT ?", [table.name, examples]).fetchall()
    shown = [f"{p} {d}: {m} = {kv:g} from {ks} (kept), {ov:g} from {os_}" if kv is not None and ov is not None else
             f"{p} {d}: {m} = {kv} from {ks} (kept), {ov} from {os_}" for p, d, m, ks, kv, os_, ov in rows]
    metadata: dict[str, Any] = {"days_disagreeing": total, "tolerance_pct": tolerance_pct, "examples": shown,
                                "where": f"SELECT * FROM origin_disagreements WHERE table_name = '{table.name}'"}
    if not total:
        return CheckOutcome(True, f"where two sources of a provider cover a day, they agree within {tolerance_pct:g} %",
                            metadata)
    return CheckOutcome(False, f"{total} day{'s' if total != 1 else ''} where two sources of a provider differ by more "
                               f"than {tolerance_pct:g} % ({table.compare}); the preferred one was kept", metadata)


def fresh(conn: duckdb.DuckDBPyConnection, table: TidyTable, providers: list[str], today: date) -> CheckOutcome:
    """Each enabled date-driven provider has rows within the table's allowed lag."""
    assert table.fresh_within_days is not None
    oldest_ok = today - timedelta(days=table.fresh_within_days)
    newest = {p: scalar(conn, f"SELECT max(day) FROM {table.name} WHERE provider = ?", [p]) for p in providers}
    stale = {p: d for p, d in newest.items() if d is None or d < oldest_ok}
    summary = (", ".join(f"{p}: newest day {d or 'none'}" for p, d in stale.items()) + f" (expected {oldest_ok} or later)"
               if stale else f"every provider has data since {oldest_ok}")
    return CheckOutcome(not stale, summary, {p: str(d) for p, d in newest.items()})


def per_person(outcomes: Mapping[str, CheckOutcome]) -> CheckOutcome:
    """One check's outcomes for several people as one: passed when all passed; a single person's as it is."""
    if len(outcomes) == 1:
        return next(iter(outcomes.values()))
    failed = {p: o for p, o in outcomes.items() if not o.passed}
    if not failed:
        return CheckOutcome(True, f"{len(outcomes)} people: " + next(iter(outcomes.values())).summary,
                            {"people": len(outcomes)})
    return CheckOutcome(False, "; ".join(f"{p}: {o.summary}" for p, o in failed.items()),
                        {"people": len(outcomes), "people_failing": ", ".join(failed)})
