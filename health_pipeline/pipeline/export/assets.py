"""The VictoriaMetrics export: every catalogued metric, exact, per partition window and per change."""

import dagster as dg

from health_pipeline.declarations import Registry
from health_pipeline.naming import EXPORT_ASSET
from health_pipeline.pipeline.landing import RETRY_POLICY
from health_pipeline.pipeline.resources import RawStoreResource, TidyStoreResource, VictoriaMetricsResource
from health_pipeline.pipeline.windows import modelled_windows
from health_pipeline.export.exporter import ExportRefused, ExportResult, ExportSettings, export
from health_pipeline.export.lineage import lineage_line
from health_pipeline.export.metrics import Metric, metrics_for
from health_pipeline.storage.victoriametrics import VictoriaMetricsError, series_selector
from health_pipeline.tidy.catalog import tables_of

EXPORT_KEY = dg.AssetKey(EXPORT_ASSET)
MAX_LISTED = 100  # corrected series named in the metadata


def export_lineage(registry: Registry, metrics: tuple[Metric, ...]) -> dict[str, object]:
    """Column schema and column lineage (metric -> tidy table.column) for the export asset."""
    columns: dict[str, dg.TableColumn] = {}
    deps: dict[str, list[dg.TableColumnDep]] = {}
    for metric in metrics:
        labels = ", ".join(metric.label_names)
        columns.setdefault(metric.name, dg.TableColumn(
            metric.name, "float", f"{metric.help} [{metric.unit}] Labels: {labels}. Stamped at {metric.stamped}. "
                                  f"{lineage_line(registry, metric.name)}"))
        for column in metric.columns:
            dep = dg.TableColumnDep(asset_key=dg.AssetKey(metric.table), column_name=column)
            if dep not in deps.setdefault(metric.name, []):
                deps[metric.name].append(dep)
    return {
        "dagster/column_schema": dg.TableSchema(columns=list(columns.values())),
        "dagster/column_lineage": dg.TableColumnLineage(deps_by_column=deps),
    }


def build_export_asset(registry: Registry, partitions: dg.PartitionsDefinition,
                       syncbit_compat: bool = False) -> dg.AssetsDefinition:
    """The export asset, downstream of every tidy table a metric is read from."""
    catalogued = metrics_for(syncbit_compat)
    tables = sorted({metric.table for metric in catalogued})

    @dg.asset(
        key=EXPORT_KEY,
        group_name="export",
        description=(
            f"Writes {len({m.name for m in catalogued})} metrics from the tidy tables to VictoriaMetrics, exactly: "
            "one sample per series and timestamp, revisions corrected, deletions removed. Daily sources export "
            "their partition window, the change-driven sources what changed; `health-pipeline lineage METRIC` explains one."
        ),
        deps=[dg.AssetKey(table) for table in tables],
        kinds={"python", "victoriametrics"},
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="duckdb",
        retry_policy=RETRY_POLICY,
        metadata=export_lineage(registry, catalogued),
    )
    def export_victoriametrics(context: dg.AssetExecutionContext, tidy_store: TidyStoreResource,
                               raw_store: RawStoreResource, victoriametrics: VictoriaMetricsResource
                               ) -> dg.MaterializeResult:
        windows, _ = modelled_windows(context)  # an import's run: the days it changed
        start, end = windows[0][0], windows[-1][1]
        config = tidy_store.config.loaded
        settings = config.victoriametrics
        metrics = metrics_for(settings.syncbit_compat)
        vm = victoriametrics.client()
        result = ExportResult()
        try:
            with tidy_store.get_connection() as conn:
                for person in raw_store.people(context):  # each person's series, labelled user=<their id>
                    for first, last in windows:
                        found = export(
                            conn, vm, metrics,
                            ExportSettings(person.id, person.timezone, settings.extra_labels,
                                           settings.syncbit_device),
                            start=first, end=last, tables=tables_of(registry),
                        )
                        result = combined(result, found)
        except ExportRefused as err:
            raise dg.Failure(description=str(err), allow_retries=False) from None
        except VictoriaMetricsError as err:
            # Not retried in-run: whatever is pending is written by the next run.
            raise dg.Failure(description=str(err), allow_retries=False) from None
        finally:
            vm.close()
        context.log.info(_summary(result))
        # the metrics' schema and lineage are the asset's definition metadata, not copied into each
        # day's materialization (66 KB each: 48 MB of event log for a two-year backfill)
        return dg.MaterializeResult(metadata=_metadata(result, start, end))

    return export_victoriametrics


def combined(a: ExportResult, b: ExportResult) -> ExportResult:
    """Two exports' figures as one (an import's run exports each range of days it changed)."""
    return ExportResult(a.samples_appended + b.samples_appended, a.samples_rewritten + b.samples_rewritten,
                        a.samples_unchanged + b.samples_unchanged, a.series_rewritten + b.series_rewritten,
                        a.series_removed + b.series_removed, a.requests + b.requests, a.scopes + b.scopes)


def _summary(result: ExportResult) -> str:
    return (f"VictoriaMetrics: {result.samples_appended} samples appended, {result.samples_rewritten} re-imported in "
            f"{len(result.series_rewritten)} corrected series, {result.samples_unchanged} already there")


def _metadata(result: ExportResult, start: object, end: object) -> dict[str, object]:
    # each person's export has its own scopes, mostly the same ones: listed once, with how many people had each
    # (else every day's materialization would repeat them per person: 2.8 KB a person, bench/README 11)
    people: dict[str, set[str]] = {}
    for scope in result.scopes:
        line = f"{scope.table}/{scope.provider}: " + ("all days" if scope.whole else f"{scope.start}..{scope.end}")
        people.setdefault(line, set()).add(scope.person)
    several = len({p for found in people.values() for p in found}) > 1
    scopes = [f"{line} ({len(found)} people)" if several else line for line, found in people.items()]
    return {
        "window": f"{start}..{end}",
        "scopes": dg.MetadataValue.md("\n".join(f"- {s}" for s in scopes) or "none"),
        "samples_appended": result.samples_appended,
        "samples_rewritten": result.samples_rewritten,
        "samples_unchanged": result.samples_unchanged,
        "series_rewritten": len(result.series_rewritten),
        "series_corrected": dg.MetadataValue.json(
            [series_selector(s) for s in result.series_rewritten[:MAX_LISTED]]),
        "series_removed": result.series_removed,
        "requests": result.requests,
    }
