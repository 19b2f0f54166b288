"""The registry: every source, one line each. The rest of the project iterates over `SOURCES`.

Adding a source: write its package (health_pipeline/sources/<name>/, see the README's "Adding a
source"), then add one line here. The order is the order sources are listed in (config file,
`status`, tidy tables).
"""

from health_pipeline.sources.base import Importer, Source
from health_pipeline.sources.fitbit import SOURCE as FITBIT
from health_pipeline.sources.fitbit_takeout import IMPORTER as FITBIT_TAKEOUT
from health_pipeline.sources.health_sync import IMPORTER as HEALTH_SYNC
from health_pipeline.sources.hevy import SOURCE as HEVY
from health_pipeline.sources.oura import SOURCE as OURA
from health_pipeline.sources.withings import SOURCE as WITHINGS

SOURCES: tuple[Source, ...] = (
    OURA,
    FITBIT,
    WITHINGS,
    HEVY,
)

# File importers: another tool's or a provider's export, read into the raw store (`health-pipeline import`).
IMPORTERS: tuple[Importer, ...] = (
    FITBIT_TAKEOUT,
    HEALTH_SYNC,
)


def titles(driven_by: str | None = None) -> str:
    """The sources' names as a person reads them (`Oura, Fitbit, Withings and Hevy`), or those driven one way."""
    names = [s.title for s in SOURCES if driven_by is None or s.driven_by == driven_by]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def source_named(name: str) -> Source:
    """The source called `name` (a `KeyError` naming the known ones otherwise)."""
    for source in SOURCES:
        if source.name == name:
            return source
    raise KeyError(f"unknown source {name!r}; known: {', '.join(s.name for s in SOURCES)}")


def importer_named(name: str) -> Importer:
    """The importer called `name` (a `KeyError` naming the known ones otherwise)."""
    for importer in IMPORTERS:
        if importer.name == name:
            return importer
    raise KeyError(f"unknown importer {name!r}; known: {', '.join(i.name for i in IMPORTERS)}")
