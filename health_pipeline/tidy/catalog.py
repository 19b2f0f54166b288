"""What the tidy layer holds: each table, its grain, its documented columns and the raw sources feeding it.

The SQL is the source of truth and this module reads it:
- `tables/{table}.sql` (here) is the DDL; every column line ends in `-- [unit] description`;
- each source's `sources/<source>/tidy/{table}.sql` is a SELECT over a relation `raw` (provider,
  resource, record_id, day, payload) yielding the table's columns; its header lines
  `-- lineage: column <- resource:json.path, ...` say which raw field each column comes from.

The tables are declared here; which sources feed them comes from the registry it is handed
(`tables_of(registry)`).

A source is driven one of two ways. "window": daily-partitioned resources (Oura, Fitbit, the
optional dense Withings data); a run rebuilds its partition window (delete the provider's days,
insert). "changes": the cursor-driven resources (Withings, Hevy); when the raw store's records of
the source changed (new, edited or tombstoned), the provider's rows are rebuilt from every live
record, so a deletion at the provider leaves the table too.
"""

import re
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from importlib import resources
from typing import Literal

from health_pipeline.declarations import ApiSource, Registry
from health_pipeline.naming import raw_asset_name

Driver = Literal["window", "changes"]

_COLUMN = re.compile(r"^\s*(\w+)\s+([A-Z]+)(\s+NOT NULL)?\s*,?\s*--\s*\[([^\]]*)\]\s*(.+?)\s*$")
_LINEAGE = re.compile(r"^--\s*lineage:\s*(\w+)\s*<-\s*(.+?)\s*$")
_RAW_RECORD = re.compile(r"^--\s*raw record:\s*(.+?)\s*$")
# Without a `-- raw record:` line, a row is traced to "the RESOURCE record of its day".
DEFAULT_RAW_RECORD = "'{resource}@' || CAST(day AS VARCHAR)"


@dataclass(frozen=True)
class Column:
    """A documented column of a tidy table."""

    name: str
    type: str
    unit: str
    description: str
    nullable: bool = True


@dataclass(frozen=True)
class FieldRef:
    """A raw JSON field a tidy column is computed from."""

    asset: str  # the raw landing asset (`fitbit_total_calories`)
    field: str  # the JSON path inside a record's payload (`totalCalories.kcalSum`)
    resource: str = ""  # the raw store's resource (`total-calories`)


@dataclass(frozen=True)
class TidySource:
    """One provider's raw resources feeding one tidy table, and how its rows are kept current."""

    table: str
    provider: str
    resources: tuple[str, ...]
    driver: Driver
    package: str  # the source's Python package, whose `tidy/{table}.sql` models it
    option: str | None = None  # the `[provider]` config option that switches the raw asset on
    # An importer's rows are modelled as another provider's (`fitbit_takeout` -> `fitbit`): both are one
    # group, and per day one of them wins (see `models.rebuild_group`).
    emits: str = ""
    asset: str | None = None  # one asset lands every resource (an importer); default: one per resource

    @property
    def tidy_provider(self) -> str:
        """The `provider` value of the rows it yields."""
        return self.emits or self.provider

    @property
    def raw_assets(self) -> tuple[str, ...]:
        """The landing assets' names (`fitbit_heart_rate` for resource `heart-rate`)."""
        if self.asset is not None:
            return (self.asset,)
        return tuple(raw_asset_name(self.provider, r) for r in self.resources)

    def asset_of(self, resource: str) -> str:
        return self.asset or raw_asset_name(self.provider, resource)

    @cached_property
    def sql(self) -> str:
        return resources.files(self.package).joinpath("tidy", f"{self.table}.sql").read_text(encoding="utf-8")

    @cached_property
    def per_record(self) -> bool:
        """Whether each row comes from a single raw record (no joins or aggregates across records),
        declared by a `-- per record` line: then a window can be modelled a slice of days at a time."""
        return any(line.startswith(("-- per record", "-- per day")) for line in self.sql.splitlines())

    @cached_property
    def lineage(self) -> dict[str, tuple[FieldRef, ...]]:
        """Tidy column -> the raw fields it is computed from (from the SQL file's header)."""
        found: dict[str, tuple[FieldRef, ...]] = {}
        for line in self.sql.splitlines():
            match = _LINEAGE.match(line)
            if match:
                refs = []
                for item in match.group(2).split(","):
                    resource, _, path = item.strip().partition(":")
                    if resource not in self.resources or not path:
                        raise ValueError(f"{self.provider}/tidy/{self.table}.sql: bad lineage item {item.strip()!r}")
                    refs.append(FieldRef(self.asset_of(resource), path, resource))
                found[match.group(1)] = tuple(refs)
        return found

    @cached_property
    def raw_record_sql(self) -> str:
        """SQL over one of the source's rows naming the raw record it came from (`sleep/<id>`), from the
        file's `-- raw record:` line; `{resource}` stands for the resource of the column in question.
        Evaluated only for rows whose values are rejected."""
        for line in self.sql.splitlines():
            match = _RAW_RECORD.match(line)
            if match:
                return match.group(1)
        return DEFAULT_RAW_RECORD

    def resources_of(self, column: str) -> str:
        """The raw resource(s) a column comes from, as `a+b` (the source's own when it has no lineage)."""
        refs = self.lineage.get(column, ())
        return "+".join(dict.fromkeys(ref.resource for ref in refs)) or "+".join(self.resources)


@dataclass(frozen=True)
class TidyTable:
    """A tidy table: its name, grain, purpose and sources."""

    name: str
    grain: tuple[str, ...]
    description: str
    sources: tuple[TidySource, ...] = field(default=())
    fresh_within_days: int | None = None  # daily data from date-driven providers should be this recent
    # What is compared per day when two sources of one provider (an API and its archive) both have the
    # day: an aggregate over the day's rows (`origins_agree` warns beyond the configured tolerance).
    compare: str | None = None

    @cached_property
    def ddl(self) -> str:
        return resources.files("health_pipeline.tidy").joinpath("tables", f"{self.name}.sql").read_text(encoding="utf-8")

    @cached_property
    def columns(self) -> tuple[Column, ...]:
        """The documented columns, in table order."""
        return tuple(Column(m.group(1), m.group(2), m.group(4).strip(), m.group(5), nullable=not m.group(3))
                     for m in map(_COLUMN.match, self.ddl.splitlines()) if m)

    @property
    def has_day(self) -> bool:
        return any(c.name == "day" for c in self.columns)

    def source(self, provider: str) -> TidySource:
        return next(s for s in self.sources if s.provider == provider)

    def groups(self) -> dict[str, tuple[TidySource, ...]]:
        """The sources by the provider their rows carry, in registry order (an API before its archive)."""
        found: dict[str, list[TidySource]] = {}
        for source in self.sources:
            found.setdefault(source.tidy_provider, []).append(source)
        return {provider: tuple(members) for provider, members in found.items()}




_DECLARED: tuple[TidyTable, ...] = (
    TidyTable("daily_activity", ("person", "provider", "day"), "Steps, distance, energy and time per intensity, per local day.", fresh_within_days=2, compare="sum(steps)"),
    TidyTable("heart_rate", ("person", "provider", "ts"), "Heart-rate samples through the day and night.", fresh_within_days=2, compare="avg(bpm)"),
    TidyTable("heart_rate_zones", ("person", "provider", "day", "zone"), "Time and energy per heart-rate zone, per local day.", fresh_within_days=2,
              compare="sum(duration_s) FILTER (WHERE zone IN ('moderate', 'vigorous', 'peak'))"),
    TidyTable("sleep_sessions", ("person", "provider", "sleep_id"), "Nights and naps with their stages and vitals.", fresh_within_days=3,
              compare="sum(asleep_s)"),
    TidyTable("sleep_samples", ("person", "provider", "sleep_id", "ts"), "Five-minute heart rate and HRV inside each sleep."),
    TidyTable("body_measurements", ("person", "provider", "measured_at", "metric"), "Weigh-ins, body composition, blood pressure.",
              compare="avg(value) FILTER (WHERE metric = 'weight')"),
    TidyTable("workouts", ("person", "provider", "workout_id"), "Workouts from every provider, one row each.", compare="count(*)"),
    TidyTable("workout_sets", ("person", "provider", "workout_id", "exercise_index", "set_index"), "Every logged set of every strength workout."),
    TidyTable("daily_scores", ("person", "provider", "day"), "The providers' own daily scores, each in its own range.", fresh_within_days=3),
    TidyTable("daily_vitals", ("person", "provider", "day"), "Nightly vitals: HRV, SpO2, breathing, temperature; stress; VO2 max.", fresh_within_days=3,
              compare="avg(hrv_ms)"),
)


# Every table by name, without its sources: the DDL and columns (creating the tables needs no more).
DECLARED: dict[str, TidyTable] = {t.name: t for t in _DECLARED}

SUMMARY = TidyTable("daily_summary", ("person", "day"), "One row per local day: each metric from the best available provider.")


@cache
def tables_of(registry: Registry) -> dict[str, TidyTable]:
    """Every tidy table (not daily_summary) with the registered sources' raw resources feeding it, in
    registry order (an API source before the import that models as its provider)."""
    return {table.name: replace(table, sources=_sources_of(registry, table.name)) for table in _DECLARED}


def all_tables_of(registry: Registry) -> dict[str, TidyTable]:
    """`tables_of` and daily_summary."""
    return {**tables_of(registry), SUMMARY.name: SUMMARY}


def _sources_of(registry: Registry, table: str) -> tuple[TidySource, ...]:
    found = []
    for source in registry.sources:
        for given in source.tidy:
            if given.table != table:
                continue
            if isinstance(source, ApiSource):
                found.append(TidySource(table, source.name, given.resources, given.driver, source.package, given.option))
            else:
                found.append(TidySource(table, source.name, given.resources, given.driver, source.package,
                                        emits=source.models_as, asset=source.asset))
    return tuple(found)
