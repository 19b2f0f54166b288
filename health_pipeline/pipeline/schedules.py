"""Schedules for the date-driven sources (Oura, Fitbit) and the daily refresh of snapshots (reference data).

Times are in the user's time zone. Every 15 minutes: today and yesterday (wearables sync through
the day and revise recent data). Daily at 04:30: the trailing 7 days (re-scored sleep, late
syncs). Daily at 04:15: profile and reference data (Oura personal info and rings, Hevy routines
and templates). All are on by default; switch them off in the UI (Automation).
"""

from datetime import datetime, timedelta

import dagster as dg

from health_pipeline.config import Config
from health_pipeline.naming import PROVIDER_TAG, RANGE_END, RANGE_START
from health_pipeline.pipeline.selection import daily_job_keys, snapshot_keys_by_source

def range_request(config: Config, when: datetime, days_back: int) -> dg.RunRequest:
    """A run over [today - days_back, today] in the user's calendar, as one range."""
    today = when.astimezone(config.app.tz).date()
    return dg.RunRequest(tags={RANGE_START: (today - timedelta(days=days_back)).isoformat(),
                               RANGE_END: today.isoformat(), PROVIDER_TAG: "daily"})


def build_schedules(config: Config) -> tuple[list[dg.JobDefinition], list[dg.ScheduleDefinition]]:
    jobs: list[dg.JobDefinition] = []
    schedules: list[dg.ScheduleDefinition] = []
    keys = daily_job_keys(config)
    if keys:
        daily = dg.define_asset_job("daily_providers", selection=dg.AssetSelection.assets(*keys),
                                    description=f"{config.registry.titles('daily')} endpoints, then the tidy tables and the export.")
        jobs.append(daily)

        @dg.schedule(name="recent_days", job=daily, cron_schedule="*/15 * * * *",
                     execution_timezone=config.app.timezone, default_status=dg.DefaultScheduleStatus.RUNNING,
                     description="Today and yesterday, every 15 minutes.")
        def recent_days(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
            return range_request(config, context.scheduled_execution_time, 1)

        @dg.schedule(name="trailing_week", job=daily, cron_schedule="30 4 * * *",
                     execution_timezone=config.app.timezone, default_status=dg.DefaultScheduleStatus.RUNNING,
                     description="The last 7 days, daily, to pick up revisions.")
        def trailing_week(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
            return range_request(config, context.scheduled_execution_time, 6)

        schedules += [recent_days, trailing_week]
    snapshots = snapshot_keys_by_source(config.registry)
    reference = [key for provider, keys in snapshots.items() if config.provider(provider).enabled for key in keys]
    if reference:
        job = dg.define_asset_job("reference_data", selection=dg.AssetSelection.assets(*reference),
                                  description="Profile and reference data refreshed whole.")
        jobs.append(job)
        schedules.append(dg.ScheduleDefinition(
            name="reference_daily", job=job, cron_schedule="15 4 * * *", execution_timezone=config.app.timezone,
            default_status=dg.DefaultScheduleStatus.RUNNING, tags={PROVIDER_TAG: "reference"},
            description=f"Profile and reference data of {' and '.join(config.registry.api(p).title for p in snapshots)}, daily."))
    return jobs, schedules
