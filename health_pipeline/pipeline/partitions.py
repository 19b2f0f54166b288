"""The one daily partitioning every date-driven asset shares, in the user's time zone."""

import dagster as dg

from health_pipeline.config import Config
from health_pipeline.storage.raw_store import RawStore


def daily_partitions(config: Config) -> dg.DailyPartitionsDefinition:
    """Local calendar days from the earliest start date of an enabled provider, or the earliest day an
    import brought if that is earlier, through today.

    Every tidy table holds days of every source, the change-driven ones too,
    so a range as far back as any provider's `start_date` can be synced and rebuilt. `start_date`
    bounds what the API sources backfill, not what a person imports: someone with only an export
    gets its whole history modelled (the definitions are built again after an import, by the CLI
    at once and by `dagster dev` on a reload).
    `end_offset=1` includes today's (partial) day: wearables sync during the day and the
    schedules refresh it until it is complete.
    """
    providers = list(config.sources.values())
    enabled = [provider.start_date for provider in providers if provider.enabled]
    start = min(enabled or [provider.start_date for provider in providers])
    imported = config.raw_store().first_day(
        dict.fromkeys(p for i in config.registry.imports for p in (i.name, *i.lands_as)))
    if imported is not None and (imported < start or not enabled):
        start = imported
    return dg.DailyPartitionsDefinition(
        start_date=start.isoformat(), timezone=config.app.timezone, end_offset=1
    )
