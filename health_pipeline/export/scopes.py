"""Which tidy rows an export compares with what VictoriaMetrics holds.

- a daily (window-driven) source: its partition window;
- a Withings or Hevy (change-driven) source: all of it, when it was modelled anew since it was
  last exported (`_tidy_state` against `_vm_sources`), else nothing;
- `daily_summary`: all of it (small, and a change anywhere can move any day);
- every table, all of it, when the label settings changed;
- every scope of an export that did not finish (`_vm_pending`).
"""

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date

import duckdb

from health_pipeline.export import ledger
from health_pipeline.export.ledger import ALL_PROVIDERS, FIRST_DAY, LAST_DAY, Scope
from health_pipeline.export.metrics import Metric
from health_pipeline.tidy.catalog import TidyTable


def plan(
    conn: duckdb.DuckDBPyConnection, metrics: Sequence[Metric], fingerprint: str, start: date, end: date,
    tables: Mapping[str, TidyTable], person: str,
) -> tuple[list[Scope], dict[tuple[str, str], str]]:
    """`person`'s export scopes, and the modelling token of each change-driven source it brings up to date
    (`tables`: the tidy tables with the sources feeding them)."""
    whole = ledger.settings_changed(conn, fingerprint, person)
    exported = ledger.exported_tokens(conn, person)
    modelled = _modelled_tokens(conn, person)
    scopes: list[Scope] = []
    tokens: dict[tuple[str, str], str] = {}
    for table in sorted({m.table for m in metrics}):
        if whole or table not in tables:
            scopes.append(Scope(table, ALL_PROVIDERS, FIRST_DAY, LAST_DAY))
            tokens.update({k: v for k, v in modelled.items() if k[0] == table})
            continue
        for source in tables[table].sources:
            # its rows carry the provider it models as (an import's rows another provider's name)
            if source.driver == "window":
                scopes.append(Scope(table, source.tidy_provider, start, end))
                continue
            token = modelled.get((table, source.provider))
            if token is not None and token != exported.get((table, source.provider)):
                scopes.append(Scope(table, source.tidy_provider, FIRST_DAY, LAST_DAY))
                tokens[(table, source.provider)] = token
    scopes = [replace(s, person=person) for s in scopes]
    return scopes + [s for s in ledger.pending(conn, person) if s not in scopes], tokens


def _modelled_tokens(conn: duckdb.DuckDBPyConnection, person: str) -> dict[tuple[str, str], str]:
    """When each of `person`'s change-driven sources was last modelled (`_tidy_state`), as an opaque token."""
    rows = conn.execute("SELECT table_name, provider, fingerprint || '@' || CAST(modelled_at AS VARCHAR) "
                        "FROM _tidy_state WHERE person = ?", [person]).fetchall()
    return {(table, provider): token for table, provider, token in rows}


def register(conn: duckdb.DuckDBPyConnection, metrics: Sequence[Metric]) -> None:
    """Temp table `_metric_table` (metric -> tidy table) for the SQL of this export."""
    pairs = sorted({(m.name, m.table) for m in metrics})
    conn.execute("CREATE OR REPLACE TEMP TABLE _metric_table AS SELECT unnest(?::VARCHAR[]) AS metric, "
                 "unnest(?::VARCHAR[]) AS table_name", [[p[0] for p in pairs], [p[1] for p in pairs]])


def in_scope(scopes: Sequence[Scope], table: str, provider_sql: str, day_sql: str) -> str:
    """SQL: is a row of `table` for `provider_sql` on `day_sql` inside one of the scopes? (inline literals)"""
    terms = []
    for s in scopes:
        if s.table != table:
            continue
        who = "TRUE" if s.provider == ALL_PROVIDERS else f"{provider_sql} = '{s.provider}'"
        when = "TRUE" if s.whole else f"{day_sql} BETWEEN DATE '{s.start}' AND DATE '{s.end}'"
        terms.append(f"({who} AND {when})")
    return "(" + " OR ".join(terms) + ")" if terms else "FALSE"


def in_any_scope(scopes: Sequence[Scope], table_sql: str, provider_sql: str, day_sql: str) -> str:
    """SQL: `in_scope` for rows of several tables, the table named by `table_sql`."""
    tables = sorted({s.table for s in scopes})
    cases = " ".join(f"WHEN '{t}' THEN {in_scope(scopes, t, provider_sql, day_sql)}" for t in tables)
    return f"(CASE {table_sql} {cases} ELSE FALSE END)" if tables else "FALSE"
