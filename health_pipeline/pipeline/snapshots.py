"""The snapshot landing asset: a resource refreshed whole, daily (profile and reference data).

Every `SnapshotResource` a source declares becomes one (Oura's personal info and rings, Hevy's
routines and exercise templates): the source's `snapshot(client, resource)` fetches every record,
and what the provider no longer lists is tombstoned. The `reference_daily` schedule refreshes them;
`health-pipeline sync` does when the last refresh is older than a day.
"""
from typing import Any

import dagster as dg

from health_pipeline.declarations import ApiSource, SnapshotResource
from health_pipeline.naming import landing_key
from health_pipeline.people import Person
from health_pipeline.pipeline.landing import RETRY_POLICY, provider_failures
from health_pipeline.pipeline.people_runs import per_person
from health_pipeline.pipeline.resources import RawStoreResource, SourceClientResource, with_client_param


def build_snapshot_asset(source: ApiSource, snapshot: SnapshotResource) -> dg.AssetsDefinition:
    """An unpartitioned asset landing one resource whole, in one transaction."""
    provider, resource = source.name, snapshot.resource
    fetch = source.snapshot
    if fetch is None:
        raise ValueError(f"{provider} declares snapshot resources but no `snapshot` to fetch them with")

    def _land(context: dg.AssetExecutionContext, raw_store: RawStoreResource,
              **clients: SourceClientResource) -> dg.MaterializeResult:
        def land(person: Person) -> dict[str, Any]:
            store = raw_store.for_person(person)
            client = clients[provider].client(store, person)
            made = client.requests_made
            with provider_failures(client):
                records = fetch(client, resource)
            counts = store.land(provider, resource, records, complete=True)
            return {"requests": client.requests_made - made, **counts.as_metadata()}

        return dg.MaterializeResult(metadata=per_person(context, raw_store.people(context, provider), land))

    return dg.asset(
        key=landing_key(provider, resource),
        group_name=provider,
        kinds={"python", "sqlite"},
        tags={"provider": provider},
        metadata={"endpoint": snapshot.endpoint},
        pool=source.pool,
        retry_policy=RETRY_POLICY,
        description=f"{source.title} `{resource}` ({snapshot.endpoint}), kept verbatim. {snapshot.description} "
                    "Refreshed whole, daily.",
    )(with_client_param(_land, provider))
