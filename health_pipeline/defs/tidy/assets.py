"""Tidy DuckDB tables, rebuilt per partition window from the raw store (delete window, insert)."""

import dagster as dg

from health_pipeline.defs.landing import RETRY_POLICY
from health_pipeline.defs.resources import HealthPipelineResource
from health_pipeline.defs.windows import partition_days
from health_pipeline.storage.duckdb_store import scalar
from health_pipeline.tidy.models import TABLES, TidyTable, rebuild_window


def build_tidy_asset(table: TidyTable, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The asset that models one tidy table from its raw sources."""

    @dg.asset(
        key=dg.AssetKey(table.name),
        group_name="tidy",
        description=(
            f"Tidy table `{table.name}` in DuckDB, one row per ({', '.join(table.grain)}), "
            f"modelled from {', '.join(s.raw_asset for s in table.sources)}."
        ),
        deps=[dg.AssetKey(source.raw_asset) for source in table.sources],
        kinds={"duckdb", "sql"},
        metadata={"dagster/table_name": table.name},
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="duckdb",
        retry_policy=RETRY_POLICY,
    )
    def _model(context: dg.AssetExecutionContext, health: HealthPipelineResource) -> dg.MaterializeResult:
        start, end = partition_days(context)
        raw_store = health.raw_store()
        with health.tidy_store().connect() as conn:
            rows = rebuild_window(conn, raw_store, table.name, start, end)
            schema = conn.execute(f"DESCRIBE {table.name}").fetchall()
            total = scalar(conn, f"SELECT count(*) FROM {table.name}")
        metadata: dict[str, object] = {
            "window": f"{start.isoformat()}..{end.isoformat()}",
            "dagster/row_count": int(total or 0),
            "dagster/column_schema": dg.TableSchema(
                columns=[dg.TableColumn(name=col[0], type=col[1]) for col in schema]
            ),
        }
        metadata.update({f"rows_in_window_{provider}": count for provider, count in rows.items()})
        return dg.MaterializeResult(metadata=metadata)

    return _model


def tidy_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [build_tidy_asset(table, partitions) for table in TABLES.values()]
