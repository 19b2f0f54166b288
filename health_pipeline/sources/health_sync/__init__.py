"""A health-sync database (the Python or Node release of the tool this project replaces), moved into the
raw store without asking any provider again: its Oura, Withings, Hevy, WHOOP and Strava records under
those sources' own resources, its Eight Sleep records (whose private API no source here calls) under
the import's own raw provider `health_sync`, modelled as provider `eight_sleep` (sleep_sessions,
daily_vitals)."""

from datetime import timedelta

from health_pipeline.declarations import ImportRun, ImportSource, TidyInput
from health_pipeline.naming import TAKE_TOKENS_TAG
from health_pipeline.sources.health_sync.database import DatabaseError
from health_pipeline.sources.health_sync.importer import OWN, HealthSyncSummary, import_health_sync
from health_pipeline.sources.health_sync.settings import HealthSyncConfig


def _read(run: ImportRun) -> dict[str, object]:
    take = run.settings.take_tokens or run.tags.get(TAKE_TOKENS_TAG) == "true"  # type: ignore[attr-defined]
    summary = import_health_sync(run.path, run.store, run.app.tz, take_tokens=take, progress=run.progress)
    for line in summary.lines():
        run.log(line)
    if summary.tokens_taken:
        run.warn(f"took the {', '.join(summary.tokens_taken)} tokens: stop health-sync now")
    _mark_days(run, summary)
    notes = ([f"took the {', '.join(summary.tokens_taken)} tokens: stop health-sync now (Oura, Withings, WHOOP and "
              "Strava rotate refresh tokens, so whichever program refreshes second is locked out)"]
             if summary.tokens_taken else [])
    return {**summary.as_metadata(), "notes": notes}


def _mark_days(run: ImportRun, summary: HealthSyncSummary) -> None:
    """The Oura and WHOOP days health-sync had fetched (up to its last sync less its overlap) recorded as
    materialized for the resources it had, so `sync` and the schedules ask only for the rest. They begin
    at the provider's `start_date`, or at the database's first day of it if later (days before it
    health-sync may never have asked for)."""
    for (provider, resource), through in sorted(summary.fetched_through.items()):
        start, first = run.start_dates.get(provider), summary.first_day(provider)
        if start is None:
            continue
        day = max(start, first) if first else start
        while day <= through:
            run.materialized(provider, resource, day)
            day += timedelta(days=1)


_C = "changes"

SOURCE = ImportSource(
    name=OWN,
    package=__name__,
    settings=HealthSyncConfig,
    description=(
        "a health-sync SQLite file (Python or Node release): its Oura, Withings, Hevy, WHOOP and Strava records "
        "land under our resources and ids (no provider is asked), its Hevy deletions as tombstones, its data-time "
        "watermarks as ours; its Eight Sleep records land as provider `health_sync` (resources `eightsleep_*`) "
        "and are modelled as provider `eight_sleep`; the tidy tables model them like synced data."),
    read=_read,
    refuses=(DatabaseError,),
    models_as="eight_sleep",
    # Eight Sleep changes only when a database is imported: its rows are rebuilt then, from every record
    # (a trend day belongs to its account holder, named by the `users_me` record).
    tidy=(
        TidyInput("sleep_sessions", ("eightsleep_trends", "eightsleep_users_me"), _C),
        TidyInput("daily_vitals", ("eightsleep_trends", "eightsleep_users_me"), _C),
    ),
    lands_as=("oura", "withings", "hevy", "whoop", "strava"),
    summary={"asleep_s": 5, "time_in_bed_s": 5, "hrv_ms": 5, "respiratory_rate_brpm": 5},
    help="a health-sync SQLite database (health.sqlite): its Oura, Withings, Hevy, WHOOP, Strava and Eight Sleep "
         "records, no provider asked",
)
