"""The follow-up builder: records fetched one by one for each record of another resource, within a quota.

A follow-up (Strava: an activity's detail, laps, zones, streams) costs one request per parent
record, so a long history needs more requests than a day's quota allows. Its asset fetches, most
recent days first, what is due (parents without it, or changed since it was fetched), landing a
batch at a time so that nothing fetched is lost; when the quota is spent it stops, successfully,
and records how much is left and when the quota resets (the run's metadata, `status`). The next
run, whoever starts it, goes on from there: what landed is not asked for again. A deleted
parent's follow-up is tombstoned.
"""

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import dagster as dg

from health_pipeline.declarations import ApiSource, FollowUp
from health_pipeline.naming import landing_key
from health_pipeline.people import Person
from health_pipeline.pipeline.landing import RETRY_POLICY, provider_failures
from health_pipeline.pipeline.people_runs import per_person
from health_pipeline.pipeline.resources import RawStoreResource, SourceClientResource, with_client_param
from health_pipeline.providers.errors import QuotaExhausted
from health_pipeline.storage.raw_store import LandingCounts, RawRecord, RawStore

BATCH = 20  # follow-ups landed per transaction: a crash loses at most this many requests' worth


@dataclass
class FollowUpOutcome:
    """What one follow-up run did, and what it left for the next."""

    counts: LandingCounts = field(default_factory=LandingCounts)
    fetched: int = 0
    left: int = 0
    stopped: QuotaExhausted | None = None


def fetch_follow_ups(source: ApiSource, follow_up: FollowUp, client: object, store: RawStore) -> FollowUpOutcome:
    """Fetch and land what is due for `follow_up`, until done or the quota is spent; record what is left."""
    provider, resource = source.name, follow_up.resource
    outcome = FollowUpOutcome()
    outcome.counts.deleted += store.tombstone(provider, resource, store.orphans(provider, follow_up.of, resource))
    due = store.due_follow_ups(provider, follow_up.of, resource)
    batch: list[RawRecord] = []
    try:
        for parent in due:
            payload = follow_up.fetch(client, parent)
            batch.append(RawRecord(parent.record_id, parent.day, payload if payload is not None else {}))
            outcome.fetched += 1
            if len(batch) >= BATCH:
                outcome.counts += store.land(provider, resource, batch, touch=True)
                batch = []
    except QuotaExhausted as err:
        outcome.stopped = err
    finally:  # whatever stopped it, what was fetched lands
        if batch:
            outcome.counts += store.land(provider, resource, batch, touch=True)
        outcome.left = len(due) - outcome.fetched
        store.land(provider, resource, [], detail={
            "left": outcome.left, "last_run": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **({"quota_resets_at": outcome.stopped.resets_at.isoformat(timespec="seconds"),
                "stopped": str(outcome.stopped)} if outcome.stopped else {})})
    return outcome


def waiting(store: RawStore, provider: str, resource: str, now: datetime) -> str | None:
    """Why a follow-up with work left must not run yet (its quota has not reset), or None."""
    state = store.sync_state(provider, resource)
    resets = (state[1] if state else {}).get("quota_resets_at")
    if resets and datetime.fromisoformat(resets) > now:
        return f"{provider} {resource}: the quota resets at {resets}"
    return None


def build_follow_up_asset(source: ApiSource, follow_up: FollowUp) -> dg.AssetsDefinition:
    """The unpartitioned asset of one follow-up, downstream of its parent's landing asset."""
    provider, resource = source.name, follow_up.resource

    def _land(context: dg.AssetExecutionContext, raw_store: RawStoreResource,
              **clients: SourceClientResource) -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata=per_person(
            context, raw_store.people(context, provider),
            lambda person: _land_person(context, raw_store.for_person(person), clients[provider], person)))

    def _land_person(context: dg.AssetExecutionContext, store: RawStore, settings: SourceClientResource,
                     person: Person) -> dict[str, Any]:
        client = settings.client(store, person)
        made = client.requests_made
        with provider_failures(client):
            outcome = fetch_follow_ups(source, follow_up, client, store)
        if outcome.stopped is not None:
            context.log.warning(f"{outcome.stopped} ({outcome.left} {follow_up.of} still need their {resource})")
        quota = client.http.quota.state() if getattr(client.http, "quota", None) is not None else {}
        return {
            "fetched": outcome.fetched, "left": outcome.left, "requests": client.requests_made - made,
            **({"stopped": str(outcome.stopped)} if outcome.stopped else {}),
            **({"quota": dg.MetadataValue.json(quota)} if quota else {}),
            **outcome.counts.as_metadata(),
        }

    return dg.asset(
        key=landing_key(provider, resource),
        group_name=provider,
        deps=[landing_key(provider, follow_up.of)],
        description=(f"{source.title} `{resource}` ({follow_up.endpoint}), kept verbatim: one per `{follow_up.of}` "
                     f"record. {follow_up.description} Fetched for the records without one (or changed since), "
                     "as many as the provider's quota allows a run; the next run fetches the rest."),
        kinds={"python", "sqlite"},
        tags={"provider": provider},
        metadata={"endpoint": follow_up.endpoint, "of": follow_up.of},
        pool=source.pool,
        retry_policy=RETRY_POLICY,
    )(with_client_param(_land, provider))
