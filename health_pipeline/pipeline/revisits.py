"""The revisit sensor: the days of records a provider has not finished with are fetched again.

WHOOP scores a night or a workout after the strap has synced, sometimes days later; until then the
record says `PENDING_SCORE` and is modelled as NULL. The schedules fetch today, yesterday and the
trailing week again; for a daily resource that declares what "not final yet" looks like
(`Unsettled`), the `<source>_unsettled` sensor looks in the raw store (no provider is asked) for
such records on older days, up to the declared age, and asks for one run of the source's daily
assets, the tidy tables and the export over those days. It asks again for the same days at most
every `AGAIN_AFTER`, and stops once the records settle (or grow too old to be settled).
"""

import json
from datetime import datetime, timedelta

import dagster as dg

from health_pipeline.declarations import ApiSource
from health_pipeline.settings import ProviderConfig
from health_pipeline.naming import PROVIDER_TAG, RANGE_END, RANGE_START, fetch_tags, landing_key
from health_pipeline.pipeline.resources import RawStoreResource, SourceClientResource, with_client_param
from health_pipeline.pipeline.runs import active_fetches
from health_pipeline.pipeline.selection import downstream_keys

INTERVAL_S = 3600
AGAIN_AFTER = timedelta(hours=6)
RECENT_DAYS = 7  # the trailing week the schedules already fetch again every day


def build_revisit_sensor(source: ApiSource, settings: ProviderConfig) -> dg.SensorDefinition:
    """The `<source>_unsettled` sensor of a daily source with unsettled records to come back for."""
    provider, title = source.name, source.title
    declared = [r for r in source.daily_resources(settings) if r.unsettled is not None]

    def _tick(context: dg.SensorEvaluationContext, raw_store: RawStoreResource,
              **clients: SourceClientResource) -> dg.SensorResult:
        client = clients[provider]
        if not client.settings.enabled:
            return dg.SensorResult(skip_reason=f"{title} is disabled in the config")
        if active_fetches(context.instance, provider):
            return dg.SensorResult(skip_reason=f"a {title} run is queued or running")
        config = raw_store.config.loaded
        stores = [raw_store.for_person(person) for person in raw_store.people(context, provider)]
        now = datetime.now(config.app.tz)
        older_than = now.date() - timedelta(days=RECENT_DAYS)
        days: set = set()
        keys = []
        for resource in declared:
            rule = resource.unsettled
            assert rule is not None
            for store in stores:  # anyone's unsettled day is fetched again (for everyone the run covers)
                days.update(store.days_where(
                    provider, resource.resource, rule.path, rule.values,
                    since=max(client.settings.start_date, now.date() - timedelta(days=rule.for_days)),
                    until=older_than - timedelta(days=1)))
            keys.append(landing_key(provider, resource.resource))
        if not days:
            return dg.SensorResult(skip_reason=f"no {title} record older than a week waits to be settled")
        first, last = min(days), max(days)
        position = f"{first}..{last}"
        state = json.loads(context.cursor) if context.cursor else {}
        if state.get("position") == position and now.timestamp() - state.get("asked_at", 0) < AGAIN_AFTER.total_seconds():
            return dg.SensorResult(skip_reason=f"asked for {position} less than {AGAIN_AFTER} ago")
        attempt = int(state.get("attempt", 0)) + 1 if state.get("position") == position else 1
        return dg.SensorResult(
            run_requests=[dg.RunRequest(
                run_key=f"{provider}:unsettled:{position}:{attempt}",
                asset_selection=[*keys, *downstream_keys(config)],
                tags={RANGE_START: first.isoformat(), RANGE_END: last.isoformat(), PROVIDER_TAG: provider,
                      **fetch_tags([provider])})],
            cursor=json.dumps({"position": position, "attempt": attempt, "asked_at": now.timestamp()}),
        )

    return dg.sensor(
        name=f"{provider}_unsettled",
        description=(f"Fetches again the days of {title} records the provider has not settled yet (e.g. still "
                     "being scored) and that are older than the trailing week the schedules refresh."),
        asset_selection=(dg.AssetSelection.assets(*(landing_key(provider, r.resource) for r in declared))
                         | dg.AssetSelection.groups("tidy", "export")),
        minimum_interval_seconds=INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )(with_client_param(_tick, provider))
