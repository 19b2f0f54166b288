"""Import assets: one per import source, unpartitioned, reading the export named in the config file (or,
for one run, in the launchpad's run config). Downstream, the tidy tables the imported records feed.

The source's `read(ImportRun)` does the reading; this builder hands it the path, the raw store, the
user's calendar, the run's tags and how to report (log lines, progress, days it brought that count
as materialized for a landing asset), and turns its refusals into one-line failures.
"""

from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg

from health_pipeline.config import Config
from health_pipeline.declarations import ImportRun, ImportSource
from health_pipeline.naming import landing_key
from health_pipeline.pipeline.resources import ImportProgress, RawStoreResource
from health_pipeline.pipeline.windows import day_ranges, ranges_text
from health_pipeline.settings import DatabaseUrl
from health_pipeline.storage.raw_store import LandingCounts, RawStore

IMPORT_GROUP = "imports"
CHANGED = "changed_days"  # metadata: the local days the import wrote, as ranges (what is modelled next)


class RecordingStore(RawStore):
    """The raw store as an import writes it: the local days every landing changed are collected, so
    that only those are modelled and exported afterwards."""

    def __init__(self, location: Path | DatabaseUrl, person: str) -> None:
        super().__init__(location, person)
        self.changed_days: set[str] = set()

    def land(self, provider: str, resource: str, records: Any, **kwargs: Any) -> LandingCounts:
        counts = super().land(provider, resource, records, **kwargs)
        self.changed_days |= counts.days
        return counts


def import_providers(source: ImportSource) -> list[str]:
    """The raw providers an import writes: its own and those whose resources it lands (health-sync)."""
    return [source.name, *source.lands_as]


class ImportRunConfig(dg.Config):
    """Launchpad config of an import run."""

    path: str = ""  # "": the `path` of the source's section in the config file


def export_path(config: Config, section: str, given: str) -> Path | None:
    """The export to read: the run's `path`, else `[section] path` (None: neither is set); relative paths
    from the config file's folder."""
    text = given or config.importer(section).path
    if not text:
        return None
    path = Path(text).expanduser()
    return path if path.is_absolute() else config.base_dir / path


def build_import_asset(source: ImportSource) -> dg.AssetsDefinition:
    """The import asset of an import source."""
    name = source.name

    @dg.asset(name=source.asset, group_name=IMPORT_GROUP, kinds={"sqlite"}, pool="raw_store",
              description=f"{source.title}: {source.description}")
    def _import(context: dg.AssetExecutionContext, config: ImportRunConfig, raw_store: RawStoreResource,
                import_progress: dg.ResourceParam[ImportProgress]) -> dg.MaterializeResult:
        settings = raw_store.config.loaded
        path = export_path(settings, name, config.path)
        if path is None:  # a "materialize all" run: nothing named, nothing to import, nothing downstream held up
            context.log.warning(f"no export to import: set [{name}] path in the config file, or `path` in the run config")
            return dg.MaterializeResult(metadata={"imported": "nothing (no path set)"})

        def materialized(provider: str, resource: str, day: date) -> None:
            context.log_event(dg.AssetMaterialization(asset_key=landing_key(provider, resource), partition=day.isoformat(),
                                                      metadata={"imported_from": source.title}))

        people = raw_store.people(context)
        if len(people) != 1:
            raise dg.Failure(description=(f"an export is one person's and this run covers {len(people)} "
                                          f"({', '.join(p.id for p in people[:5])}{', ...' if len(people) > 5 else ''}): "
                                          f"name whose it is (`health-pipeline import {name.replace('_', '-')} PATH "
                                          "--person ID`, or the run tag health/people=ID)"), allow_retries=False)
        person = people[0]
        store = RecordingStore(raw_store.store().location, person.id)
        run = ImportRun(path=path, store=store, app=person.app(settings.app), settings=settings.importer(name),
                        tags=context.run.tags, progress=import_progress.reporter(context.log.info, path),
                        log=context.log.info, warn=context.log.warning, materialized=materialized,
                        start_dates={name: section.start_date for name, section in settings.sources.items()})
        try:
            metadata = source.read(run)
        except source.refuses as err:
            raise dg.Failure(str(err), allow_retries=False) from None
        ranges = day_ranges(store.changed_days)
        context.log.info(f"{len(store.changed_days)} local days changed" + (f": {ranges_text(ranges)}" if ranges else ""))
        return dg.MaterializeResult(metadata={"path": str(path), **metadata, "days_changed": len(store.changed_days),
                                              CHANGED: ranges_text(ranges)})

    return _import
