"""The registry: every source, one line each. The rest of the project iterates over `SOURCES`.

Adding a source: write its package (health_pipeline/sources/<name>/, see the README's "Adding a
source"), then add one line here. The order is the order sources are listed in (config file,
`status`, tidy tables).
"""

from health_pipeline.sources.base import Source
from health_pipeline.sources.fitbit import SOURCE as FITBIT
from health_pipeline.sources.hevy import SOURCE as HEVY
from health_pipeline.sources.oura import SOURCE as OURA
from health_pipeline.sources.withings import SOURCE as WITHINGS

SOURCES: tuple[Source, ...] = (
    OURA,
    FITBIT,
    WITHINGS,
    HEVY,
)


def source_named(name: str) -> Source:
    """The source called `name` (a `KeyError` naming the known ones otherwise)."""
    for source in SOURCES:
        if source.name == name:
            return source
    raise KeyError(f"unknown source {name!r}; known: {', '.join(s.name for s in SOURCES)}")
