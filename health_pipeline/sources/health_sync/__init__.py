"""A health-sync database (the Python or Node release of the tool this project replaces), moved into the
raw store under the Oura, Withings and Hevy resources, without asking any provider again."""

from datetime import date, timedelta

from health_pipeline.declarations import ImportRun, ImportSource
from health_pipeline.naming import TAKE_TOKENS_TAG
from health_pipeline.sources.health_sync.database import DatabaseError
from health_pipeline.sources.health_sync.importer import OURA_DOCUMENTS, import_health_sync
from health_pipeline.sources.health_sync.settings import HealthSyncConfig


def _read(run: ImportRun) -> dict[str, object]:
    take = run.settings.take_tokens or run.tags.get(TAKE_TOKENS_TAG) == "true"  # type: ignore[attr-defined]
    summary = import_health_sync(run.path, run.store, run.app.tz, take_tokens=take, progress=run.progress)
    for line in summary.lines():
        run.log(line)
    if summary.tokens_taken:
        run.warn(f"took the {', '.join(summary.tokens_taken)} tokens: stop health-sync now")
    _mark_oura_days(run, summary.oura_done_through,
                    [r for (p, r) in summary.resources if p == "oura" and (r in OURA_DOCUMENTS or r == "heartrate")])
    notes = ([f"took the {', '.join(summary.tokens_taken)} tokens: stop health-sync now (Oura and Withings rotate "
              "refresh tokens, so whichever program refreshes second is locked out)"] if summary.tokens_taken else [])
    return {**summary.as_metadata(), "notes": notes}


def _mark_oura_days(run: ImportRun, through: date | None, resources: list[str]) -> None:
    """The Oura days health-sync had fetched (up to its last sync less its 7-day overlap) recorded as
    materialized for the resources it had, so `sync` and the schedules ask only for the rest."""
    if through is None:
        return
    day = run.start_dates["oura"]
    while day <= through:
        for resource in resources:
            run.materialized("oura", resource, day)
        day += timedelta(days=1)


SOURCE = ImportSource(
    name="health_sync",
    package=__name__,
    settings=HealthSyncConfig,
    description=(
        "a health-sync SQLite file (Python or Node release): its Oura, Withings and Hevy records land under our "
        "resources and ids (no provider is asked), its Hevy deletions as tombstones, its data-time watermarks as "
        "ours; the tidy tables model them like synced data."),
    read=_read,
    refuses=(DatabaseError,),
    lands_as=("oura", "withings", "hevy"),
    help="a health-sync SQLite database (health.sqlite): its Oura, Withings and Hevy records, no provider asked",
)
