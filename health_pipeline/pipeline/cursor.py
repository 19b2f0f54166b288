"""The cursor builder: a change-driven source's landing assets and sensor, from its declared `Cursor`.

How a cursor source is kept current (Withings' `lastupdate`, Hevy's workout events), written once:

- **The raw store's watermark is the truth** of what has landed, per resource: the newest change
  landed, written in the same transaction as the records it covers, so a failed run never moves it
  and is simply asked for again.
- **A sync** lands what changed since the watermark less the cursor's margin (late writes on the
  provider's side): new and changed records merged by id, deletions and retired ids tombstoned,
  and where the answer covers days whole, what those days no longer hold tombstoned. The first
  sync lands the days since `start_date` whole, or every change since then; a cursor with
  `relist_every` lands them whole again that often (deletions no change feed shows).
- **A window sync** (`health-pipeline sync --start --end`, run tag `health/window`) lands those
  local days whole, tombstoning what the provider no longer has in them, and never moves the
  watermark itself (a window says nothing of what changed elsewhere); if the resource synced
  before, it then follows the changes as usual, so the next sensor tick finds nothing new.
- **The sensor** (`<source>_changes`) asks the provider cheaply, per resource, whether anything is
  newer than the watermark, and only then requests a run of the resources that changed. The run
  key encodes the change position: if the same position is asked for again, the last run did not
  land it (it failed), so a new attempt number makes a new run. It skips while one of the source's
  runs is queued or running (one at a time per source), and while the source is disabled.
"""

import json
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timezone
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg

from health_pipeline.declarations import ApiSource, Cursor, CursorResource
from health_pipeline.naming import COHORT_TAG, PROVIDER_TAG, fetch_tags, landing_key
from health_pipeline.people import Person
from health_pipeline.pipeline.follow_ups import waiting
from health_pipeline.pipeline.landing import RETRY_POLICY, provider_failures
from health_pipeline.pipeline.people_runs import per_person
from health_pipeline.pipeline.resources import RawStoreResource, SourceClientResource, with_client_param
from health_pipeline.pipeline.runs import active_fetches
from health_pipeline.pipeline.windows import sync_window
from health_pipeline.providers.errors import ProviderError
from health_pipeline.settings import ProviderConfig
from health_pipeline.storage.raw_store import LandingCounts, RawStore

INTERVAL_S = 300  # how often the sensor asks
# How long one tick may spend asking people, once it has asked the first ASKED_WHOLE_UP_TO (Dagster's
# sensor timeout is 60 s; a tick should be quick): a household is always asked whole; a study goes on,
# each tick, after the last person the previous tick asked.
PROBE_BUDGET_S = 4.0
ASKED_WHOLE_UP_TO = 8


@dataclass
class SyncOutcome:
    """What one change-driven sync of a resource did."""

    counts: LandingCounts
    watermark_before: str | None
    watermark_after: str | None
    first_sync: bool


def sync_changes(source: ApiSource, client: object, store: RawStore, resource: str, start_date: date,
                 today: date) -> SyncOutcome:
    """Land what changed since the resource's watermark (everything since `start_date` the first time,
    and again whenever the cursor's `relist_every` has passed since the last whole re-listing)."""
    cursor = _cursor(source)
    provider = source.name
    position = cursor.landed(store, provider, resource)
    state = store.sync_state(provider, resource)
    relisted = (state[1] if state else {}).get("relisted_at")
    now = datetime.now(timezone.utc)
    relist = position is not None and cursor.relist_every is not None and (
        not relisted or datetime.fromisoformat(relisted) + cursor.relist_every <= now)
    if (position is None and cursor.first == "window") or relist:
        found = cursor.window(client, resource, start_date, today)  # whole for the days it says (`days`)
    elif position is None:
        found = cursor.changes(client, resource, datetime.combine(start_date, time.min, timezone.utc))
        found = replace(found, records=[r for r in found.records if (r.day or "") >= start_date.isoformat()])
    else:
        found = cursor.changes(client, resource, position - cursor.margin)
    # A first sync that found nothing (an account without data yet, a transaction still held by a run
    # that failed) stands at now: it covered everything since start_date.
    newest = max(filter(None, (found.newest, position)), default=None) or now
    detail = {"last_sync": now.isoformat(timespec="seconds"),
              "relisted_at": now.isoformat(timespec="seconds") if relist or position is None else relisted}
    counts = store.land(provider, resource, found.records, window=found.days,
                        retire=[*found.retired, *found.deleted],
                        watermark=cursor.position.encode(newest) if newest else None,
                        detail={k: v for k, v in detail.items() if v})
    if found.after_landing is not None:
        found.after_landing()
    return SyncOutcome(counts, cursor.position.encode(position) if position else None,
                       cursor.position.encode(newest) if newest else None, position is None)


def sync_days(source: ApiSource, client: object, store: RawStore, resource: str, start: date, end: date,
              start_date: date, today: date) -> SyncOutcome:
    """Land the resource's local days [start, end] whole, then (if it synced before) what changed."""
    cursor = _cursor(source)
    found = cursor.window(client, resource, start, end)
    # only the days the answer says it holds whole lose what it no longer has (a provider that serves
    # the last 30 days, or a transaction of what is new, says less than the window asked for)
    counts = store.land(source.name, resource, found.records, window=found.days,
                        retire=[*found.retired, *found.deleted])
    if found.after_landing is not None:
        found.after_landing()
    if cursor.landed(store, source.name, resource) is None:  # never synced: its first sync backfills from start_date
        return SyncOutcome(counts, None, None, False)
    caught_up = sync_changes(source, client, store, resource, start_date, today)
    counts += caught_up.counts
    return SyncOutcome(counts, caught_up.watermark_before, caught_up.watermark_after, False)


def _cursor(source: ApiSource) -> Cursor:
    if source.cursor is None:
        raise ValueError(f"{source.name} declares no cursor")
    return source.cursor


# -- Dagster --------------------------------------------------------------------------------------


def build_cursor_asset(source: ApiSource, resource: CursorResource) -> dg.AssetsDefinition:
    """The unpartitioned landing asset of one cursor resource."""
    provider, name = source.name, resource.resource

    def _land(context: dg.AssetExecutionContext, raw_store: RawStoreResource,
              **clients: SourceClientResource) -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata=per_person(
            context, raw_store.people(context, provider),
            lambda person: _land_person(context, raw_store.for_person(person), clients[provider], person)))

    def _land_person(context: dg.AssetExecutionContext, store: RawStore, settings: SourceClientResource,
                     person: Person) -> dict[str, Any]:
        client = settings.client(store, person)
        made = client.requests_made
        today = datetime.now(ZoneInfo(person.timezone)).date()
        start_date = settings.settings_for(person, store).start_date
        window = sync_window(context)
        with provider_failures(client):
            if window is None:
                outcome = sync_changes(source, client, store, name, start_date, today)
            else:
                outcome = sync_days(source, client, store, name, *window, start_date, today)
        return {
            **({"window": f"{window[0]}..{window[1]}"} if window else {}),
            "first_sync": outcome.first_sync, "watermark_before": outcome.watermark_before or "none",
            "watermark_after": outcome.watermark_after or "none", "requests": client.requests_made - made,
            **outcome.counts.as_metadata(),
        }

    return dg.asset(
        key=landing_key(provider, name),
        group_name=provider,
        description=(f"{source.title} `{name}` ({resource.endpoint}), kept verbatim in the raw store. "
                     f"{resource.description} Lands what changed since the raw store's watermark (everything "
                     "since start_date the first time); a `sync --start/--end` run also fetches those days whole."),
        kinds={"python", "sqlite"},
        tags={"provider": provider},
        metadata={"endpoint": resource.endpoint},
        pool=source.pool,
        retry_policy=RETRY_POLICY,
    )(with_client_param(_land, provider))


def build_cursor_sensor(source: ApiSource, settings: ProviderConfig | None = None) -> dg.SensorDefinition:
    """The `<source>_changes` sensor (see the module docstring for how it behaves); it also runs the
    source's follow-ups (switched on in `settings`) while some are left and their quota has reset."""
    cursor = _cursor(source)
    provider, title = source.name, source.title
    resources = [r.resource for r in cursor.resources]
    follow_ups = source.follow_up_resources(settings) if settings is not None else ()

    def _tick(context: dg.SensorEvaluationContext, raw_store: RawStoreResource,
              **clients: SourceClientResource) -> dg.SensorResult:
        settings = clients[provider]
        if not settings.settings.enabled:
            return dg.SensorResult(skip_reason=f"{title} is disabled in the config")
        if active_fetches(context.instance, provider):
            return dg.SensorResult(skip_reason=f"a {title} run is queued or running")
        state = json.loads(context.cursor) if context.cursor else {}
        people = raw_store.people(context, provider)
        in_turn = _in_turn(people, state.get("next"))
        asked = 0
        changed_of: dict[str, dict[str, str]] = {}  # person -> resource -> their change position
        unreachable: list[str] = []
        deadline = monotonic() + PROBE_BUDGET_S
        for person in in_turn:  # what changed for anyone, in turn, while the tick's budget lasts
            if asked >= max(ASKED_WHOLE_UP_TO, 1) and monotonic() > deadline:
                break
            asked += 1
            store = raw_store.for_person(person)
            client = None
            try:
                for resource in resources:
                    position = cursor.landed(store, provider, resource)
                    if position is None:
                        changed_of.setdefault(person.id, {})[resource] = "first"
                        continue
                    client = client or settings.client(store, person)
                    newer = cursor.newest(client, resource, position)
                    if newer is not None:
                        changed_of.setdefault(person.id, {})[resource] = cursor.position.encode(newer)
            except ProviderError as err:
                unreachable.append(f"{person.id}: {err}" if len(people) > 1 else str(err))
            finally:
                if client is not None:
                    client.http.close()
        whole_round = asked == len(in_turn)
        round_state = {"next": None if whole_round else in_turn[asked - 1].id}
        # a whole round leaves the cursor as it was (the last run requested), less a round in progress
        kept = json.dumps({k: v for k, v in state.items() if k != "next"}) if state.get("next") else None
        if unreachable and not changed_of:
            return dg.SensorResult(skip_reason=f"cannot ask {title}: {'; '.join(unreachable)}",
                                   cursor=kept if whole_round else json.dumps({**state, **round_state}))
        now = datetime.now(timezone.utc)
        if not whole_round:  # a study too large to ask in one tick: a run for each cohort with changes
            left = {person.cohort for person in in_turn[:asked] for f in follow_ups
                    if raw_store.for_person(person).due_follow_ups(provider, f.of, f.resource, limit=1)
                    and waiting(raw_store.for_person(person), provider, f.resource, now) is None}
            return _cohort_requests(provider, title, resources, follow_ups, people, changed_of, left,
                                    {**state, **round_state})
        changed: dict[str, str] = {}
        for positions in changed_of.values():  # a run for everyone: the newest position of anyone's
            for resource, position in positions.items():
                changed[resource] = _newer_of(changed.get(resource), position)
        backlog = [f for f in follow_ups for person in people
                   if raw_store.for_person(person).due_follow_ups(provider, f.of, f.resource, limit=1)
                   and waiting(raw_store.for_person(person), provider, f.resource, now) is None]
        backlog = list(dict.fromkeys(backlog))
        if not changed and not backlog:
            return dg.SensorResult(skip_reason=cursor.nothing_new or f"nothing changed at {title} since the last landed sync",
                                   cursor=kept)
        if changed:
            position = _position(changed, resources)
            extra = follow_ups  # new or changed records need theirs
        else:  # only follow-ups left over from a spent quota, which has reset since
            position, extra = "left:" + ",".join(sorted(f.resource for f in backlog)), tuple(backlog)
        attempt = next_attempt(context.cursor, position)
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=f"{provider}:{position}:{attempt}",
                                        asset_selection=[*(landing_key(provider, r) for r in sorted(changed)),
                                                         *(landing_key(provider, f.resource) for f in extra)],
                                        tags={PROVIDER_TAG: provider, **fetch_tags([provider])})],
            cursor=json.dumps({"position": position, "attempt": attempt,
                               **({"cohorts": state["cohorts"]} if "cohorts" in state else {})}),
        )

    return dg.sensor(
        name=f"{provider}_changes",
        description=f"Asks {title} ({cursor.asks}) whether anything changed after what landed.",
        asset_selection=[*(landing_key(provider, r) for r in resources),
                         *(landing_key(provider, f.resource) for f in follow_ups)],
        minimum_interval_seconds=INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )(with_client_param(_tick, provider))


def _in_turn(people: list[Person], last_asked: str | None) -> list[Person]:
    """Everyone, starting after the person the last tick asked last (from the first when None)."""
    if last_asked is None:
        return list(people)
    later = [i for i, person in enumerate(people) if person.id > last_asked]
    start = later[0] if later else 0
    return people[start:] + people[:start]


def _position(changed: dict[str, str], resources: list[str]) -> str:
    return next(iter(changed.values())) if len(resources) == 1 else ",".join(f"{r}={p}" for r, p in sorted(changed.items()))


def _cohort_requests(provider: str, title: str, resources: list[str], follow_ups: tuple[Any, ...],
                     people: list[Person], changed_of: dict[str, dict[str, str]], left: set[str],
                     state: dict[str, Any]) -> dg.SensorResult:
    """A tick that asked only some people (the budget ran out): one run per cohort in which someone's
    data changed (or, `left`, someone asked has follow-ups left over from a spent quota), tagged with
    that cohort, keyed by the cohort and its newest positions."""
    cohort_of = {person.id: person.cohort for person in people}
    by_cohort: dict[str, dict[str, str]] = {}
    for person, positions in changed_of.items():
        merged = by_cohort.setdefault(cohort_of[person], {})
        for resource, position in positions.items():
            merged[resource] = _newer_of(merged.get(resource), position)
    asked = dict(state.get("cohorts", {}))
    requests = []
    for cohort in sorted(left - set(by_cohort)):
        by_cohort[cohort] = {}
    for cohort, changed in sorted(by_cohort.items()):
        position = _position(changed, resources) if changed else "left:" + ",".join(sorted(f.resource for f in follow_ups))
        last = asked.get(cohort)
        attempt = last[1] + 1 if last and last[0] == position else 1
        asked[cohort] = [position, attempt]
        requests.append(dg.RunRequest(
            run_key=f"{provider}:{cohort}:{position}:{attempt}",
            asset_selection=[*(landing_key(provider, r) for r in sorted(changed)),
                             *(landing_key(provider, f.resource) for f in follow_ups)],
            tags={PROVIDER_TAG: provider, COHORT_TAG: cohort, **fetch_tags([provider])}))
    next_state = {**state, "cohorts": asked}
    if not requests:
        return dg.SensorResult(skip_reason=f"nothing changed at {title} for the people asked this tick "
                                           f"(the next tick goes on after {state['next']})",
                               cursor=json.dumps(next_state))
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(next_state))


def _newer_of(known: str | None, found: str) -> str:
    """Of two people's change positions, the one the run key should name (a first sync wins: it is news)."""
    if known is None or found == "first":
        return found
    return known if known == "first" else max(known, found)


def next_attempt(cursor: str | None, position: str) -> int:
    """1 for a new change position; one more each time the same position must be asked for again."""
    state = json.loads(cursor) if cursor else {}
    return int(state.get("attempt", 0)) + 1 if state.get("position") == position else 1
