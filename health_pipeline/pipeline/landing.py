"""The daily landing asset: one resource of an API source, a partition range in one run, one
transaction per chunk (the next chunk fetched while one lands).

Every `DailyResource` a source declares becomes one (Oura's and Fitbit's endpoints, Withings'
dense data), so adding an endpoint to a source's catalogue adds its asset.
"""

from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import date, timedelta
from typing import Any, Protocol

import dagster as dg

from health_pipeline.declarations import ApiSource, DailyResource
from health_pipeline.naming import landing_key
from health_pipeline.people import Person
from health_pipeline.pipeline.people_runs import per_person
from health_pipeline.pipeline.resources import RawStoreResource, SourceClientResource, with_client_param
from health_pipeline.pipeline.windows import partition_days
from health_pipeline.providers.errors import ProviderError
from health_pipeline.providers.windows import FetchedChunk, read_ahead
from health_pipeline.storage.raw_store import LandingCounts, RawStore

RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


class WindowClient(Protocol):
    """What a landing asset needs from a provider client."""

    http: Any

    @property
    def requests_made(self) -> int: ...

    def fetch_window(self, resource: str, start: date, end: date) -> Iterator[FetchedChunk]: ...


@contextmanager
def provider_failures(client: Any, passthrough: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Turn a provider's typed error into a Dagster failure (retried only if it is retryable), and
    close the client's connections whatever happens. `passthrough` errors reach the caller as they are."""
    try:
        yield
    except passthrough:
        raise
    except ProviderError as err:
        raise dg.Failure(description=str(err), allow_retries=err.retryable) from None
    finally:
        client.http.close()


def resume_start(detail: dict[str, Any], run_ids: set[str], start: date, last: date) -> date:
    """Where a retried or re-executed run picks up: after the chunks this run already landed."""
    landed = detail.get("landed_through")
    if detail.get("run_id") not in run_ids or not isinstance(landed, str):
        return start
    resumed = date.fromisoformat(landed) + timedelta(days=1)
    return resumed if start < resumed <= last + timedelta(days=1) else start


def build_daily_landing_asset(source: ApiSource, daily: DailyResource,
                              partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """A daily-partitioned asset landing one resource verbatim in the raw store."""
    provider, resource = source.name, daily.resource

    def _land(context: dg.AssetExecutionContext, raw_store: RawStoreResource,
              **clients: SourceClientResource) -> dg.MaterializeResult:
        first, last = partition_days(context)
        client = clients[provider]
        return dg.MaterializeResult(metadata=per_person(
            context, raw_store.people(context, provider),
            lambda person: _land_person(context, raw_store.for_person(person), client, person, first, last)))

    def _land_person(context: dg.AssetExecutionContext, store: RawStore, client: SourceClientResource,
                     person: Person, first: date, last: date) -> dict[str, Any]:
        state = store.sync_state(provider, resource)
        run = context.run
        run_ids = {i for i in (run.run_id, run.parent_run_id, run.root_run_id) if i}
        requested = max(first, client.settings_for(person, store).start_date)
        start = resume_start(state[1] if state else {}, run_ids, requested, last)
        if start != requested:
            context.log.info(f"resuming after {start - timedelta(days=1)}: earlier chunks of this run already landed")
        api: WindowClient = client.client(store, person)
        made = api.requests_made  # the run's client is shared by its assets: count this asset's own
        counts = LandingCounts()
        chunks = 0
        try:
            # the next window is fetched while this one lands; closed before the client is
            with provider_failures(api, passthrough=source.skip_errors), \
                    closing(read_ahead(api.fetch_window(resource, start, last))) as fetched:
                for chunk in fetched:
                    counts += store.land(
                        provider, resource, chunk.records, window=(chunk.start, chunk.end) if chunk.whole else None,
                        watermark=chunk.end.isoformat(),
                        detail={"run_id": run.run_id, "landed_through": chunk.end.isoformat(),
                                "window": [requested.isoformat(), last.isoformat()]},
                    )
                    chunks += 1
                    context.log.info(f"landed {chunk.start}..{chunk.end}: {len(chunk.records)} records")
        except source.skip_errors as err:  # partial consent: this resource was not granted
            context.log.warning(f"skipped: {err}")
            return {"skipped": str(err), "requests": api.requests_made - made}
        resumed = {"resumed_from": start.isoformat()} if start != requested else {}
        return {
            "window": f"{requested.isoformat()}..{last.isoformat()}" if requested <= last else "before start_date",
            **resumed,
            "requests": api.requests_made - made,
            "chunks": chunks,
            **counts.as_metadata(),
        }

    return dg.asset(
        key=landing_key(provider, resource),
        group_name=provider,
        description=f"{source.title} `{resource}` ({daily.endpoint}), kept verbatim in the raw store. {daily.description}",
        kinds={"python", "sqlite"},
        tags={"provider": provider},
        metadata={"endpoint": daily.endpoint, **daily.metadata},
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=source.pool,
        retry_policy=RETRY_POLICY,
    )(with_client_param(_land, provider))
