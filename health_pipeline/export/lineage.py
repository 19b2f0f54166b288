"""Where an exported metric comes from: metric -> tidy table.column -> raw asset and JSON field -> endpoint.

Read from the metric catalogue, the tidy catalogue's SQL lineage headers and the providers'
endpoint catalogues, so it cannot drift from what the code does. `health-pipeline lineage`
prints it; the export asset carries the first hop as Dagster column lineage.
"""

from dataclasses import dataclass, replace

from health_pipeline.declarations import Registry
from health_pipeline.export.metrics import CATALOGUE, SYNCBIT_PROVIDER, Metric, named
from health_pipeline.tidy.catalog import tables_of
from health_pipeline.tidy.summary import METRICS as SUMMARY_METRICS
from health_pipeline.tidy.summary import summary_columns


@dataclass(frozen=True)
class RawField:
    """A JSON field of a raw landing asset, and the provider request it is fetched with."""

    provider: str
    asset: str
    field: str
    endpoint: str


@dataclass(frozen=True)
class ColumnOrigin:
    """A tidy column, and what it is computed from: raw fields, or (daily_summary) other tidy columns."""

    table: str
    column: str
    unit: str
    description: str
    fields: tuple[RawField, ...] = ()
    via: tuple["ColumnOrigin", ...] = ()


def column_origin(registry: Registry, table: str, column: str) -> ColumnOrigin:
    """The lineage of one tidy column, down to the registered sources' endpoints."""
    tables = tables_of(registry)
    if table not in tables:  # daily_summary: each metric column picks from another tidy table
        documented = {c.name: c for c in summary_columns()}[column]
        source = next(m for m in SUMMARY_METRICS if m.name == column)
        return ColumnOrigin(table, column, documented.unit, documented.description,
                            via=(column_origin(registry, source.table, source.column),))
    tidy = tables[table]
    documented = next(c for c in tidy.columns if c.name == column)
    fields = tuple(
        RawField(src.provider, ref.asset, ref.field, registry.endpoint(src.provider, ref.resource))
        for src in tidy.sources for ref in src.lineage.get(column, ())
    )
    return ColumnOrigin(table, column, documented.unit, documented.description, fields)


def describe(registry: Registry, name: str) -> str:
    """The lineage of a metric as text (for `health-pipeline lineage`)."""
    entries = named(name)
    if not entries:
        raise KeyError(name)
    first = entries[0]
    lines = [f"{name}  [{first.unit}]  {first.help}",
             f"  labels: {', '.join(_labels(entries))}; stamped at {first.stamped}"]
    for metric in entries:
        condition = _condition(metric)
        for column in metric.columns:
            origin = column_origin(registry, metric.table, column)
            if metric.providers:  # SyncBit's names carry the Fitbit rows only
                origin = replace(origin, fields=tuple(f for f in origin.fields if f.provider in metric.providers))
            lines += _origin_lines(origin, depth=1, condition=condition)
    return "\n".join(lines)


def _labels(entries: tuple[Metric, ...]) -> list[str]:
    names: dict[str, set[str]] = {}
    for metric in entries:
        for label in metric.label_names:
            names.setdefault(label, set())
        for label, sql in metric.labels:
            if sql.startswith("'"):
                names[label].add(sql.strip("'"))
    return [f"{label}={'|'.join(sorted(values))}" if values else label for label, values in names.items()]


def _condition(metric: Metric) -> str:
    parts = [f"{label}={sql.strip(chr(39))}" for label, sql in metric.labels if sql.startswith("'")]
    if metric.where != "TRUE":
        parts.append(f"rows where {metric.where}")
    if metric.value:
        parts.append(f"value = {metric.value}" + (" summed per day" if metric.aggregate else ""))
    if metric.providers:
        parts.append(f"{', '.join(metric.providers)} rows only")
    return f"  ({'; '.join(parts)})" if parts else ""


def _origin_lines(origin: ColumnOrigin, depth: int, condition: str = "") -> list[str]:
    pad = "  " * depth
    lines = [f"{pad}<- {origin.table}.{origin.column}  [{origin.unit}]  {origin.description}{condition}"]
    for field in origin.fields:
        lines.append(f"{pad}     <- {field.provider:<9} {field.asset} : {field.field}  <- {field.endpoint}")
    for upstream in origin.via:
        lines += _origin_lines(upstream, depth + 1)
    return lines


def lineage_line(registry: Registry, name: str) -> str:
    """One metric's lineage on one line: tidy columns, then each raw asset field and its request.

    The export asset's column descriptions carry it, so the open-source Dagster UI (which does not
    draw column lineage) shows where each metric comes from.
    """
    entries = named(name)
    columns = dict.fromkeys((m.table, c) for m in entries for c in m.columns)
    only_syncbit = all(m.family == "syncbit" for m in entries)  # SyncBit's names are read from Fitbit rows
    parts = []
    for table, column in columns:
        origin = column_origin(registry, table, column)
        chain = f"{table}.{column}"
        while origin.via and not origin.fields:
            origin = origin.via[0]
            chain += f" <- {origin.table}.{origin.column}"
        fields = "; ".join(f"{f.asset}.{f.field} ({f.endpoint})" for f in origin.fields
                           if not only_syncbit or f.provider == SYNCBIT_PROVIDER)
        parts.append(f"{chain} <- {fields}" if fields else chain)
    return "Lineage: " + " | ".join(parts) + "."


def metric_table() -> str:
    """The README's metric table (markdown), one row per metric name."""
    rows = ["| metric | unit | labels | stamped at | from | meaning |", "| --- | --- | --- | --- | --- | --- |"]
    for name in dict.fromkeys(m.name for m in CATALOGUE):
        entries = named(name)
        first = entries[0]
        sources = ", ".join(dict.fromkeys(f"`{m.table}.{c}`" for m in entries for c in m.columns))
        labels = ", ".join(f"`{label}`".replace("|", "\\|") for label in _labels(entries))
        rows.append(f"| `{name}` | {first.unit} | {labels} | {first.stamped} | {sources} | {first.help} |")
    return "\n".join(rows)


def metric_list() -> str:
    """Every metric name with its unit and meaning, one a line (for `health-pipeline lineage`)."""
    width = max(len(m.name) for m in CATALOGUE)
    firsts = [named(name)[0] for name in dict.fromkeys(m.name for m in CATALOGUE)]
    return "\n".join(f"{m.name:<{width}}  [{m.unit}]  {m.help}" for m in firsts)
