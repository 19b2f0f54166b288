"""The one daily partitioning every date-driven asset shares, in the user's time zone."""

import dagster as dg

from health_pipeline.config import Config


def daily_partitions(config: Config) -> dg.DailyPartitionsDefinition:
    """Local calendar days from the earliest start date of an enabled provider through today.

    Every tidy table holds days of every source, the change-driven ones too,
    so a range as far back as any provider's `start_date` can be synced and rebuilt.
    `end_offset=1` includes today's (partial) day: wearables sync during the day and the
    schedules refresh it until it is complete.
    """
    providers = list(config.sources.values())
    enabled = [provider.start_date for provider in providers if provider.enabled]
    start = min(enabled or [provider.start_date for provider in providers])
    return dg.DailyPartitionsDefinition(
        start_date=start.isoformat(), timezone=config.app.timezone, end_offset=1
    )
