"""The one daily partitioning every date-driven asset shares, in the user's time zone."""

import dagster as dg

from health_pipeline.config import Config


def daily_partitions(config: Config) -> dg.DailyPartitionsDefinition:
    """Local calendar days from the earliest start date of an enabled daily provider through today.

    `end_offset=1` includes today's (partial) day: wearables sync during the day and the
    schedules refresh it until it is complete.
    """
    daily = [config.oura, config.fitbit]
    if config.withings.option("intraday") or config.withings.option("high_frequency_sleep"):
        daily.append(config.withings)
    enabled = [provider.start_date for provider in daily if provider.enabled]
    start = min(enabled or [provider.start_date for provider in daily])
    return dg.DailyPartitionsDefinition(
        start_date=start.isoformat(), timezone=config.app.timezone, end_offset=1
    )
