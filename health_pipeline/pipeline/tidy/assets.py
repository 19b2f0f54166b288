"""Tidy DuckDB tables as assets: modelled from the raw store, checked, documented with column lineage.

One asset per table, daily-partitioned (a range run is one run). A run rebuilds the window of
every date-driven source and follows the raw store's changes for the Withings and Hevy sources;
run tag `health/rebuild=full` (set by `health-pipeline rebuild`) re-models change-driven
sources even when nothing changed. Checks run inside the asset on the same connection. Only the
invariants the pipeline owns block the export (grain, no future days); a provider's implausible
value is kept out of the table and reported by a warning (`plausible_values`), never fatal.
"""

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from health_pipeline.config import Config
from health_pipeline.declarations import Registry
from health_pipeline.naming import REBUILD_TAG
from health_pipeline.pipeline.landing import RETRY_POLICY
from health_pipeline.pipeline.resources import RawStoreResource, TidyStoreResource
from health_pipeline.pipeline.windows import modelled_windows
from health_pipeline.storage.duckdb_store import scalar
from health_pipeline.tidy import checks
from health_pipeline.tidy.catalog import SUMMARY, Column, TidyTable, tables_of
from health_pipeline.tidy.checks import CheckOutcome
from health_pipeline.tidy.models import DEFAULT_TOLERANCE_PCT, SourceResult, create_tables, rebuild_table
from health_pipeline.tidy.rejections import Rejected
from health_pipeline.tidy.summary import METRICS, rebuild_summary, summary_columns

BLOCKING = ("unique_grain", "no_future_days")
ALWAYS = ("unique_grain", "plausible_values", "no_future_days")


def check_specs(table: TidyTable, key: dg.AssetKey, with_sources: bool) -> list[dg.AssetCheckSpec]:
    descriptions = {
        "unique_grain": f"No two rows share ({', '.join(table.grain)}).",
        "plausible_values": "Warns of provider values this run kept out of the table (set NULL, or the row left "
                            "out) and recorded in `rejected_values`: heart rate 25-250 bpm, weight 20-300 kg, steps "
                            "0-100 000, durations non-negative, sleep stages adding up to the time asleep within a "
                            "minute, scores 0-100, no day after today.",
        "no_future_days": "No row is dated after today (in the configured time zone).",
        "rows_match_raw": "Each provider's rows of the days the run modelled (a change-driven one's: all) equal "
                          "what the raw store's live records give: nothing unmodelled, nothing stale.",
        "fresh": f"Each enabled date-driven provider has a row within the last {table.fresh_within_days} days.",
        "origins_agree": "Warns of days where the live API and an imported export both have data and differ by "
                         f"more than the importer's `tolerance_pct` in {table.compare}; the preferred one was kept "
                         "(precedence: the API, unless the table is in `archive_wins`).",
    }
    names = list(ALWAYS)
    if with_sources:
        names.append("rows_match_raw")
    if table.fresh_within_days is not None:
        names.append("fresh")
    if with_sources and table.compare and any(len(m) > 1 for m in table.groups().values()):
        names.append("origins_agree")
    return [dg.AssetCheckSpec(name, asset=key, description=descriptions[name], blocking=name in BLOCKING)
            for name in names]


def column_schema(columns: Collection[Column]) -> dg.TableSchema:
    return dg.TableSchema(columns=[
        dg.TableColumn(name=c.name, type=c.type.lower(), description=f"{c.description} [{c.unit}]") for c in columns])


def table_lineage(table: TidyTable, existing: Collection[str]) -> dg.TableColumnLineage:
    """Each tidy column -> the raw assets and JSON fields it is computed from."""
    deps: dict[str, list[dg.TableColumnDep]] = {}
    for source in table.sources:
        if not set(source.raw_assets) & set(existing):
            continue
        for column, refs in source.lineage.items():
            deps.setdefault(column, []).extend(
                dg.TableColumnDep(asset_key=dg.AssetKey(ref.asset), column_name=ref.field) for ref in refs)
    unique = {column: list({(d.asset_key, d.column_name): d for d in found}.values()) for column, found in deps.items()}
    return dg.TableColumnLineage(deps_by_column=unique)  # an importer's one asset lands several resources


def summary_lineage() -> dg.TableColumnLineage:
    deps = {m.name: [dg.TableColumnDep(asset_key=dg.AssetKey(m.table), column_name=m.column)] for m in METRICS}
    deps.update({f"{m.name}_provider": [dg.TableColumnDep(asset_key=dg.AssetKey(m.table), column_name="provider")]
                 for m in METRICS})
    return dg.TableColumnLineage(deps_by_column=deps)


def _result(name: str, outcome: CheckOutcome, key: dg.AssetKey) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=key, check_name=name, passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR if name in BLOCKING else dg.AssetCheckSeverity.WARN,
        description=outcome.summary, metadata=outcome.metadata)


def _table_metadata(conn, table: str, columns: Collection[Column]) -> dict[str, object]:
    """What a run's materialization records: the row counts. The column schema and lineage are
    the asset's definition metadata, which the UI shows: a range run records one materialization
    per day, and a copy of them in each (16 KB for daily_summary) made a two-year backfill's
    bookkeeping heavier than its modelling."""
    total = int(scalar(conn, f"SELECT count(*) FROM {table}") or 0)
    metadata: dict[str, object] = {"dagster/table_name": table, "dagster/row_count": total}
    if any(c.name == "provider" for c in columns):
        for provider, rows in conn.execute(f"SELECT provider, count(*) FROM {table} GROUP BY 1 ORDER BY 1").fetchall():
            metadata[f"rows_{provider}"] = int(rows)
    return metadata


def import_precedence(config: Config, table: str) -> tuple[dict[str, tuple[str, ...]], float]:
    """Per provider an import models as, who wins a day both have in `table` (the API unless the table is
    in the import's `archive_wins`), and the tolerance of the `origins_agree` check."""
    precedence: dict[str, tuple[str, ...]] = {}
    tolerance = DEFAULT_TOLERANCE_PCT
    for importer in config.registry.imports:
        if not importer.models_as:
            continue
        settings = config.importer(importer.name)
        wins = table in getattr(settings, "archive_wins", ())
        precedence[importer.models_as] = ((importer.name, importer.models_as) if wins else
                                          (importer.models_as, importer.name))
        tolerance = getattr(settings, "tolerance_pct", tolerance)
    return precedence, tolerance


def merged_results(results: Collection[SourceResult]) -> list[SourceResult]:
    """One result per provider from the rebuilds of several windows: rows and rejections added up."""
    merged: dict[str, SourceResult] = {}
    for r in results:
        before = merged.get(r.provider)
        if before is None:
            merged[r.provider] = r
            continue
        rejected = before.rejected
        if r.rejected is not None:
            rejected = Rejected({k: (rejected.counts.get(k, 0) if rejected else 0) + r.rejected.counts.get(k, 0)
                                 for k in {*(rejected.counts if rejected else {}), *r.rejected.counts}},
                                [*(rejected.examples if rejected else []), *r.rejected.examples][:5])
        rows = before.rows + r.rows if r.driver == "window" else r.rows  # a change source counts its whole table
        merged[r.provider] = replace(r, rebuilt=before.rebuilt or r.rebuilt, rows=rows, rejected=rejected)
    return list(merged.values())


def build_tidy_asset(registry: Registry, table: TidyTable, partitions: dg.PartitionsDefinition,
                     existing: Collection[str]) -> dg.AssetsDefinition:
    """The asset that models one tidy table from those of its raw sources that are defined."""
    key = dg.AssetKey(table.name)
    sources = [s for s in table.sources if set(s.raw_assets) <= set(existing)]
    lineage = table_lineage(table, existing)
    fed = {s.provider for s in sources}
    raw_deps = sorted({asset for s in sources for asset in s.raw_assets}
                      | {i.asset for i in registry.imports if set(i.lands_as) & fed and i.asset in existing})

    @dg.asset(
        key=key,
        group_name="tidy",
        description=(f"Tidy table `{table.name}` in DuckDB: {table.description} One row per "
                     f"({', '.join(table.grain)}); modelled from {', '.join(raw_deps)}."),
        deps=[dg.AssetKey(asset) for asset in raw_deps],
        kinds={"duckdb", "sql"},
        metadata={"dagster/table_name": table.name, "dagster/column_schema": column_schema(table.columns),
                  "dagster/column_lineage": lineage, "grain": ", ".join(table.grain)},
        check_specs=check_specs(replace(table, sources=tuple(sources)), key, with_sources=bool(sources)),
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="duckdb",
        retry_policy=RETRY_POLICY,
    )
    def _model(context: dg.AssetExecutionContext, raw_store: RawStoreResource,
               tidy_store: TidyStoreResource) -> dg.MaterializeResult:
        windows, providers = modelled_windows(context)
        config = tidy_store.config.loaded
        people = raw_store.people(context)
        today = datetime.now(config.app.tz).date()
        force = context.run.tags.get(REBUILD_TAG) == "full"
        modelled = replace(table, sources=tuple(sources))
        precedence, tolerance = import_precedence(config, table.name)
        with tidy_store.get_connection() as conn:
            results, matched = [], {}
            for person in people:  # each person's rows from their records, on their calendar
                raw = raw_store.for_person(person)
                mine = [r for start, end in windows
                        for r in rebuild_table(conn, raw, modelled, start, end, providers=providers, force=force,
                                               today=datetime.now(ZoneInfo(person.timezone)).date(),
                                               precedence=precedence, tolerance_pct=tolerance,
                                               timezone=person.timezone)]
                results += mine
                if sources:
                    matched[person.id] = checks.rows_match_raw(conn, raw, modelled, precedence, windows=windows,
                                                               providers=providers)
            results = merged_results(results)
            rejected = {r.provider: r.rejected for r in results if r.rejected is not None}
            outcomes = {
                "unique_grain": checks.unique_grain(conn, table.name, table.grain),
                "plausible_values": checks.plausible_values(conn, table.name, rejected),
                "no_future_days": checks.no_future_days(conn, table.name, today),
            }
            if sources:
                outcomes["rows_match_raw"] = checks.per_person(matched)
            if any(spec.name == "origins_agree" for spec in check_specs(modelled, key, bool(sources))):
                outcomes["origins_agree"] = checks.origins_agree(conn, modelled, tolerance)
            if table.fresh_within_days is not None:
                daily = list(dict.fromkeys(s.tidy_provider for s in sources if s.driver == "window"
                                           and s.provider in config.sources and config.provider(s.provider).enabled))
                outcomes["fresh"] = checks.fresh(conn, table, daily, today)
            metadata = _table_metadata(conn, table.name, table.columns)
        metadata["window"] = ",".join(f"{a.isoformat()}..{b.isoformat()}" for a, b in windows) or "none"
        for r in results:
            metadata[f"modelled_{r.provider}"] = (f"{r.rows} rows in the window" if r.driver == "window" else
                                                  f"{r.rows} rows (rebuilt: raw records changed)" if r.rebuilt else
                                                  f"{r.rows} rows (unchanged since the last run)")
            if r.rejected is not None and r.rejected.total:
                metadata[f"rejected_{r.provider}"] = r.rejected.total
        return dg.MaterializeResult(metadata=metadata,
                                    check_results=[_result(n, o, key) for n, o in outcomes.items()])

    return _model


def build_summary_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    key = dg.AssetKey(SUMMARY.name)
    columns = summary_columns()
    lineage = summary_lineage()

    @dg.asset(
        key=key,
        group_name="tidy",
        description=("Tidy table `daily_summary` in DuckDB: one row per local day, each metric from the best "
                     "provider that has it (precedence: `[summary]` in the config), the provider named in "
                     "`<metric>_provider`. Rebuilt whole on every run from the other tidy tables."),
        deps=sorted({dg.AssetKey(m.table) for m in METRICS}, key=lambda k: k.to_user_string()),
        kinds={"duckdb", "sql"},
        metadata={"dagster/table_name": SUMMARY.name, "dagster/column_schema": column_schema(columns),
                  "dagster/column_lineage": lineage, "grain": "day"},
        check_specs=check_specs(SUMMARY, key, with_sources=False),
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="duckdb",
        retry_policy=RETRY_POLICY,
    )
    def daily_summary(context: dg.AssetExecutionContext, tidy_store: TidyStoreResource) -> dg.MaterializeResult:
        config = tidy_store.config.loaded
        today = datetime.now(config.app.tz).date()
        with tidy_store.get_connection() as conn:
            create_tables(conn)
            rebuild_summary(conn, config.summary)
            outcomes = {
                "unique_grain": checks.unique_grain(conn, SUMMARY.name, SUMMARY.grain),
                "plausible_values": checks.plausible_summary(conn, SUMMARY.name),
                "no_future_days": checks.no_future_days(conn, SUMMARY.name, today),
            }
            metadata = _table_metadata(conn, SUMMARY.name, columns)
            for m in METRICS:
                for provider, days in conn.execute(
                        f"SELECT {m.name}_provider, count(*) FROM daily_summary WHERE {m.name} IS NOT NULL "
                        f"GROUP BY 1 ORDER BY 1").fetchall():
                    metadata[f"days_{m.name}_from_{provider}"] = int(days)
        return dg.MaterializeResult(metadata=metadata,
                                    check_results=[_result(n, o, key) for n, o in outcomes.items()])

    return daily_summary


def tidy_assets(registry: Registry, partitions: dg.PartitionsDefinition,
                existing: Collection[str]) -> list[dg.AssetsDefinition]:
    """Every tidy table's asset, fed by the raw assets in `existing` (switched-off options are left out)."""
    return [*(build_tidy_asset(registry, t, partitions, existing) for t in tables_of(registry).values()),
            build_summary_asset(partitions)]
