"""Moving a health-sync database into the raw store, without asking any provider for a record.

Its Oura, Withings, Hevy, WHOOP and Strava records land under the providers' own resources and our
record ids, as a sync would have landed them (a record the raw store already holds is left as it is, so
an older database never overwrites what a sync landed since). Payloads are parsed and stored compact in
the order the database keeps: the Python release keeps the answer's, so its records are the very text a
sync stores; the Node release sorts keys and writes whole floats as integers (`70.0` as `70`), equal
JSON in another text, which a later sync of the same record stores again (counted "changed"). Oura
documents by `id` on their `day`, Oura heart rate grouped into one record per local day, Withings items
by `grpid` / `date:device` / `id`, Hevy workouts by `id`, WHOOP cycles, sleeps (health-sync's `sleep`)
and workouts by `id` on the local day each counts towards (the record's own offset), recoveries by
`cycle_id` on their sleep's day (else their cycle's), the WHOOP profile (`profile_basic`) and body
measurement by member id (else "me"), Strava activities by `id` on the day of `start_date_local` and
the athlete by id. Strava's follow-ups (detail, laps, zones, streams) are not in health-sync: the
follow-up assets fetch them. Hevy `deleted` events (health-sync hard-deletes the workout) become
tombstones; a record missing from the database is not a deletion (health-sync re-lists WHOOP and
Strava and deletes what vanished without trace: we cannot tell). Each (provider, resource) lands in
one transaction. Watermarks carried over are data times, never behind one already kept: Withings'
newest `modified`, Hevy's newest event, Strava's newest `start_date` (health-sync's own Oura and
Withings watermarks are sync times, not taken). Oura and WHOOP are kept by days here, not by a cursor:
the days health-sync had fetched of them (up to its last sync less its overlap) are reported, to be
recorded as materialized.

Eight Sleep, whose private API no source here calls, lands under the import's own raw provider
`health_sync` (resources `eightsleep_<health-sync's resource>`, health-sync's record ids `{userId}:{day}`
and so on), a trend day on the local day its main sleep ended; its tidy SQL models it as provider
`eight_sleep`. A database at least as recent as the last one imported (its rows' `fetched_at`)
replaces what that one landed there (the last night of a database is often still incomplete).
Other providers and resources we do not sync are counted and skipped.
"""

import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from health_pipeline.declarations import ISO_INSTANT
from health_pipeline.sources.health_sync.database import DatabaseError, HealthSyncDatabase, Row, Token, parse_instant
from health_pipeline.sources.strava import client as strava
from health_pipeline.sources.whoop import client as whoop
from health_pipeline.sources.withings.client import CATALOGUE as WITHINGS_CATALOGUE
from health_pipeline.sources.withings.client import item_day
from health_pipeline.storage.raw_store import LandingCounts, RawRecord, RawStore

OURA_DOCUMENTS = {"daily_activity": "day", "daily_sleep": "day", "daily_readiness": "day", "sleep": "day",
                  "workout": "day"}
WITHINGS = ("measures", "activity", "workouts", "sleep_summary")
TOKENS = ("oura", "withings", "whoop", "strava")  # OAuth providers whose tokens it keeps and we can use
OVERLAP_DAYS = 7  # what health-sync refetches of Oura on its next sync; ours does the same
WHOOP_OVERLAP_DAYS = 7  # health-sync's `[whoop] overlap_days` default: recent WHOOP days may still change
# health-sync's WHOOP resources -> ours: dated collections, and those refreshed whole
WHOOP_DATED = {"cycles": "cycles", "recoveries": "recoveries", "sleep": "sleeps", "workouts": "workouts"}
WHOOP_WHOLE = {"profile_basic": "profile", "body_measurement": "body_measurement"}
OWN = "health_sync"  # the import's own raw provider: records of providers no source here has
OWN_PROVIDERS = ("eightsleep",)  # landed under OWN as `<provider>_<resource>`


class RowError(Exception):
    """A row whose payload lacks what our record needs (an id, a time): one line naming it."""


@dataclass
class ResourceSummary:
    rows: int = 0
    records: int = 0
    days: set[str] = field(default_factory=set)


@dataclass
class HealthSyncSummary:
    """What an import did, per (provider, resource) of ours."""

    path: Path
    schema: str
    resources: dict[tuple[str, str], ResourceSummary] = field(default_factory=dict)
    counts: LandingCounts = field(default_factory=LandingCounts)
    tombstones: int = 0
    watermarks: dict[str, str] = field(default_factory=dict)  # provider/resource -> our watermark now
    # (provider, resource) of a daily-partitioned source -> the last local day health-sync had fetched for
    # good (its last sync less its overlap)
    fetched_through: dict[tuple[str, str], date] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)  # provider/resource -> rows not imported
    failed: list[str] = field(default_factory=list)
    tokens_taken: list[str] = field(default_factory=list)
    hevy_newest_event: datetime | None = None

    def lines(self) -> list[str]:
        out = [f"{self.path}: health-sync database ({self.schema} release)"]
        for (provider, resource), s in sorted(self.resources.items()):
            span = f"{min(s.days)}..{max(s.days)}" if s.days else "-"
            out.append(f"  {provider}/{resource:<18} {s.rows:>7} rows {s.records:>7} records {len(s.days):>5} days  {span}")
        c = self.counts
        out.append(f"  records: {c.new} new, {c.changed} changed, {c.unchanged} unchanged; {self.tombstones} deletions "
                   f"kept as tombstones")
        out += [f"  watermark {k} = {v}" for k, v in sorted(self.watermarks.items())]
        out += [f"  {p}/{r}: days through {day} count as fetched" for (p, r), day in sorted(self.fetched_through.items())]
        if self.skipped:
            out.append("  not imported: " + ", ".join(f"{k} ({n} rows)" for k, n in sorted(self.skipped.items())))
        if self.tokens_taken:
            out.append(f"  tokens taken: {', '.join(self.tokens_taken)}: stop health-sync now (its refresh tokens "
                       f"rotate, so whichever program refreshes second is locked out)")
        out += [f"  FAILED {line}" for line in self.failed]
        return out

    def first_day(self, provider: str) -> date | None:
        """The earliest local day of the provider's records in the database."""
        days = [day for (p, _), found in self.resources.items() if p == provider for day in found.days]
        return date.fromisoformat(min(days)) if days else None

    def as_metadata(self) -> dict[str, object]:
        return {"schema": self.schema, **self.counts.as_metadata(), "tombstones": self.tombstones,
                **{f"{p}_{r}_records": s.records for (p, r), s in sorted(self.resources.items())},
                **{f"watermark_{k.replace('/', '_')}": v for k, v in sorted(self.watermarks.items())},
                "skipped": dict(sorted(self.skipped.items())) or "none", "failures": self.failed[:10],
                "tokens_taken": ", ".join(self.tokens_taken) or "none (pass --take-tokens)"}


def _oura_documents(rows: list[Row], day_field: str) -> list[RawRecord]:
    found = []
    for row in rows:
        doc = row.payload
        if not isinstance(doc, dict) or not isinstance(doc.get("id"), str) or not isinstance(doc.get(day_field), str):
            raise RowError(f"oura/{row.resource} record {row.record_id!r}: no `id` or `{day_field}` in the payload")
        found.append(RawRecord(doc["id"], doc[day_field], doc))
    return found


def _oura_heartrate(rows: list[Row], tz: ZoneInfo) -> list[RawRecord]:
    by_day: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        sample = row.payload
        instant = parse_instant(sample.get("timestamp")) if isinstance(sample, dict) else None
        if instant is None:
            raise RowError(f"oura/heartrate record {row.record_id!r}: no valid `timestamp` in the payload")
        by_day[instant.astimezone(tz).date().isoformat()][sample["timestamp"]] = sample
    return [RawRecord(day, day, [samples[ts] for ts in sorted(samples, key=lambda t: parse_instant(t) or datetime.min)])
            for day, samples in sorted(by_day.items())]


def _oura_profile(rows: list[Row]) -> list[RawRecord]:
    return [RawRecord(str(row.payload["id"]), None, row.payload) for row in rows
            if isinstance(row.payload, dict) and row.payload.get("id")]


def _withings(rows: list[Row], resource: str, tz: ZoneInfo) -> list[RawRecord]:
    endpoint = WITHINGS_CATALOGUE[resource]
    found: dict[str, RawRecord] = {}
    for row in rows:
        try:
            record_id = endpoint.record_id(row.payload)
        except (KeyError, TypeError):
            raise RowError(f"withings/{resource} record {row.record_id!r}: the payload lacks its id") from None
        found[record_id] = RawRecord(record_id, item_day(row.payload, tz), row.payload)
    return list(found.values())


def _hevy_workouts(rows: list[Row], tz: ZoneInfo) -> list[RawRecord]:
    found = []
    for row in rows:
        workout = row.payload
        start = parse_instant(workout.get("start_time")) if isinstance(workout, dict) else None
        if start is None or not workout.get("id"):
            raise RowError(f"hevy/workouts record {row.record_id!r}: no `id` or valid `start_time` in the payload")
        found.append(RawRecord(str(workout["id"]), start.astimezone(tz).date().isoformat(), workout))
    return found


def _whoop_dated(rows: list[Row], resource: str) -> list[RawRecord]:
    """Cycles, sleeps or workouts by `id`, on the local day each counts towards (`whoop.local_day`)."""
    found: dict[str, RawRecord] = {}
    for row in rows:
        item = row.payload
        day = whoop.local_day(resource, item) if isinstance(item, dict) else None
        if day is None or item.get("id") is None:
            raise RowError(f"whoop/{row.resource} record {row.record_id!r}: no `id` or valid `start`/`end` in the payload")
        found[str(item["id"])] = RawRecord(str(item["id"]), day.isoformat(), item)
    return list(found.values())


def _whoop_recoveries(db: HealthSyncDatabase, rows: list[Row], summary: HealthSyncSummary) -> list[RawRecord]:
    """Recoveries by `cycle_id`, on their sleep's day (the database's sleep by `sleep_id`, else its cycle's),
    as our sync lands them; one with neither is counted as skipped (a sync would not have landed it either)."""
    def days(resource: str, ours: str) -> dict[str, date]:
        return {str(r.payload.get("id")): day for r in db.rows("whoop", resource)
                if isinstance(r.payload, dict) and (day := whoop.local_day(ours, r.payload)) is not None}

    cycles, sleeps = days("cycles", "cycles"), days("sleep", "sleeps")
    found: dict[str, RawRecord] = {}
    undated = 0
    for row in rows:
        item = row.payload
        if not isinstance(item, dict) or item.get("cycle_id") is None:
            raise RowError(f"whoop/recoveries record {row.record_id!r}: no `cycle_id` in the payload")
        day = sleeps.get(str(item.get("sleep_id"))) or cycles.get(str(item["cycle_id"]))
        if day is None:
            undated += 1
            continue
        found[str(item["cycle_id"])] = RawRecord(str(item["cycle_id"]), day.isoformat(), item)
    if undated:
        summary.skipped["whoop/recoveries without their cycle or sleep"] = undated
    return list(found.values())


def _whole(rows: list[Row], key: str) -> list[RawRecord]:
    """A profile refreshed whole, keyed as our client keys it: the member's or athlete's id, else "me"."""
    found: dict[str, RawRecord] = {}
    for row in rows:
        if not isinstance(row.payload, dict):
            raise RowError(f"{row.provider}/{row.resource} record {row.record_id!r}: the payload is not an object")
        record_id = "me" if row.payload.get(key) is None else str(row.payload[key])
        found[record_id] = RawRecord(record_id, None, row.payload)
    return list(found.values())


def _strava_activities(rows: list[Row]) -> list[RawRecord]:
    found: dict[str, RawRecord] = {}
    for row in rows:
        activity = row.payload
        if not isinstance(activity, dict) or activity.get("id") is None or strava.started(activity) is None:
            raise RowError(f"strava/activities record {row.record_id!r}: no `id` or valid `start_date` in the payload")
        found[str(activity["id"])] = RawRecord(str(activity["id"]), strava.local_day(activity), activity)
    return list(found.values())


def _strava_watermark(store: RawStore, records: list[RawRecord]) -> str | None:
    """Strava's cursor: the newest `start_date` landed (a data time), never behind one already kept."""
    state = store.sync_state("strava", "activities")
    kept = ISO_INSTANT.decode(state[0]) if state and state[0] else None
    newest = max(filter(None, [*(strava.started(r.payload) for r in records), kept]), default=None)
    return ISO_INSTANT.encode(newest) if newest else None


def _wake_day(trend: Any, tz: ZoneInfo) -> str | None:
    """An Eight Sleep trend day's local day: when its main sleep (else the day's sleep, else presence) ended,
    in `tz`. Its `day` label is drawn in the zone health-sync asked for (`[eightsleep] timezone`, UTC
    unless set) and is the fallback only."""
    if not isinstance(trend, dict):
        return None
    sessions = trend.get("sessions") if isinstance(trend.get("sessions"), list) else []
    main = next((s for s in sessions if isinstance(s, dict) and trend.get("mainSessionId") is not None
                 and str(s.get("id")) == str(trend["mainSessionId"])), {})
    for where in (main, trend):
        wake = parse_instant(where.get("sleepEnd")) or parse_instant(where.get("presenceEnd"))
        if wake is not None:
            return wake.astimezone(tz).date().isoformat()
    label = trend.get("day")
    return label if isinstance(label, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", label) else None


def _own(rows: list[Row], resource: str, tz: ZoneInfo) -> list[RawRecord]:
    """Records of a provider no source here has, kept verbatim under health-sync's record ids; a trend day
    dated by `_wake_day`, the others undated."""
    return [RawRecord(row.record_id, _wake_day(row.payload, tz) if resource == "trends" else None, row.payload)
            for row in rows]


def import_health_sync(path: Path, store: RawStore, tz: ZoneInfo, *, take_tokens: bool = False,
                       progress: Callable[[int, int, str], None] | None = None) -> HealthSyncSummary:
    """Land the database's records (`DatabaseError` if it cannot be read at all)."""
    with HealthSyncDatabase(path) as db:
        summary = HealthSyncSummary(db.path, db.schema)
        # Deletion events after the workouts: a workout saved again after its deletion stays live.
        present = sorted(db.resources(), key=lambda r: (r[0], r[1] == "workout_events", r[1]))
        total = sum(n for _, _, n in present) or 1
        done = 0
        for provider, resource, count in present:
            done += count
            try:
                _land(db, store, tz, provider, resource, summary)
            except (RowError, DatabaseError) as err:  # that resource lands nothing; the others land
                summary.failed.append(str(err))
            if progress:
                progress(done, total, f"{provider}/{resource}")
        if ("hevy", "workouts") in summary.resources:
            _hevy_watermark(db, store, summary)
        _fetched_through(db, tz, summary)
        if take_tokens:
            for provider, token in db.tokens().items():
                if provider in TOKENS:
                    _save(store, token)
                    summary.tokens_taken.append(provider)
    return summary


def _fetched_through(db: HealthSyncDatabase, tz: ZoneInfo, summary: HealthSyncSummary) -> None:
    """The days health-sync had fetched of the daily-partitioned resources it had: Oura up to its last sync
    (its watermark) less its 7-day overlap; each WHOOP collection, which health-sync re-lists whole on
    every sync, up to its last sync of it less its `overlap_days` (7): recent days may still change."""
    oura_synced = db.watermark("oura", "daily_activity")
    for provider, resource in summary.resources:
        if provider == "oura" and (resource in OURA_DOCUMENTS or resource == "heartrate") and oura_synced is not None:
            summary.fetched_through[(provider, resource)] = oura_synced.astimezone(tz).date() - timedelta(days=OVERLAP_DAYS)
    for theirs, ours in WHOOP_DATED.items():
        synced = db.synced_at("whoop", theirs)
        if synced is not None and ("whoop", ours) in summary.resources:
            summary.fetched_through[("whoop", ours)] = synced.astimezone(tz).date() - timedelta(days=WHOOP_OVERLAP_DAYS)


def _save(store: RawStore, token: Token) -> None:
    store.save_token(token.provider, access_token=token.access_token, refresh_token=token.refresh_token,
                     token_type=token.token_type, scope=token.scope, expires_at=token.expires_at)


def _land(db: HealthSyncDatabase, store: RawStore, tz: ZoneInfo, provider: str, resource: str,
          summary: HealthSyncSummary) -> None:
    rows = list(db.rows(provider, resource))
    key = f"{provider}/{resource}"
    ours = (provider, resource)  # where it lands
    watermark: str | None = None
    newest_fetch: datetime | None = None
    if provider == "oura" and resource in OURA_DOCUMENTS:
        records = _oura_documents(rows, OURA_DOCUMENTS[resource])
    elif provider == "oura" and resource == "heartrate":
        records = _oura_heartrate(rows, tz)
    elif provider == "oura" and resource == "personal_info":
        records = _oura_profile(rows)
    elif provider == "withings" and resource in WITHINGS:
        records = _withings(rows, resource, tz)
        modified = [r.payload.get("modified") for r in records if isinstance(r.payload.get("modified"), int)]
        before = store.sync_state("withings", resource)
        known = int(before[0]) if before and before[0] else 0
        watermark = str(max([*modified, known])) if modified or known else None
    elif provider == "hevy" and resource == "workouts":
        records = _hevy_workouts(rows, tz)
    elif provider == "hevy" and resource == "workout_events":
        _hevy_deletions(db, store, rows, tz, summary)
        return
    elif provider == "whoop" and resource in WHOOP_DATED:
        ours = ("whoop", WHOOP_DATED[resource])
        records = _whoop_recoveries(db, rows, summary) if resource == "recoveries" else _whoop_dated(rows, ours[1])
    elif provider == "whoop" and resource in WHOOP_WHOLE:
        ours = ("whoop", WHOOP_WHOLE[resource])
        records = _whole(rows, "user_id")
    elif provider == "strava" and resource == "activities":
        records = _strava_activities(rows)
        watermark = _strava_watermark(store, records)
    elif provider == "strava" and resource == "athlete":
        records = _whole(rows, "id")
    elif provider in OWN_PROVIDERS:
        ours = (OWN, f"{provider}_{resource}")
        records = _own(rows, resource, tz)
        newest_fetch = db.newest_fetch(provider, resource)
    else:
        summary.skipped[key] = len(rows)
        return
    # Only records the raw store does not hold yet: a copy already there came from the provider (a sync)
    # or from this same database, and an older database must never overwrite what a sync landed since.
    # Records of our own provider came from an import only: a database at least as recent replaces them.
    state = store.sync_state(*ours)
    kept = (state[1] if state else {}).get("database_fetched_at")
    replaces = newest_fetch is not None and (not kept or newest_fetch >= datetime.fromisoformat(kept))
    if replaces:
        landing = records
    else:
        held = {r.record_id for r in store.records(*ours, include_deleted=True)}
        landing = [r for r in records if r.record_id not in held]
    detail = None
    if watermark or replaces:
        # the sync's own bookkeeping (a cursor's last re-listing) is kept
        detail = {**(state[1] if state else {}), "imported_from": "health-sync", "path": str(db.path),
                  **({"database_fetched_at": newest_fetch.isoformat()} if replaces and newest_fetch else {})}
    counts = store.land(*ours, landing, watermark=watermark, detail=detail)
    counts.unchanged += len(records) - len(landing)
    summary.counts += counts
    found = summary.resources.setdefault(ours, ResourceSummary())
    found.rows += len(rows)
    found.records += len(records)
    found.days.update(r.day for r in records if r.day)
    if watermark:
        summary.watermarks["/".join(ours)] = watermark


def _hevy_deletions(db: HealthSyncDatabase, store: RawStore, rows: list[Row], tz: ZoneInfo,
                    summary: HealthSyncSummary) -> None:
    """`deleted:<id>:<ts>` events become tombstones (unless the workout was saved again after); the
    newest event is Hevy's watermark, as our event sync would have left it."""
    live = {r.record_id: json.loads(r.payload) for r in store.records("hevy", "workouts")}
    deleted, newest = [], None
    for row in rows:
        event = row.payload if isinstance(row.payload, dict) else {}
        stamp = parse_instant(event.get("deleted_at") or (event.get("workout") or {}).get("updated_at"))
        if stamp is not None and (newest is None or stamp > newest):
            newest = stamp
        if event.get("type") != "deleted" or not event.get("id") or stamp is None:
            continue
        saved = parse_instant((live.get(str(event["id"])) or {}).get("updated_at"))
        if saved is None or saved < stamp:
            deleted.append((str(event["id"]), event, stamp.isoformat(timespec="seconds").replace("+00:00", "Z")))
    summary.tombstones += store.bury("hevy", "workouts", deleted)
    found = summary.resources.setdefault(("hevy", "workout_events"), ResourceSummary())
    found.rows += len(rows)
    found.records += len(deleted)
    summary.hevy_newest_event = newest


def _hevy_watermark(db: HealthSyncDatabase, store: RawStore, summary: HealthSyncSummary) -> None:
    """Hevy's cursor: the newest data time health-sync saw (its watermark is one: the newest workout
    update or event), never behind one already kept."""
    updated = [parse_instant(json.loads(r.payload).get("updated_at")) for r in store.records("hevy", "workouts")]
    state = store.sync_state("hevy", "workouts")
    ours = datetime.fromisoformat(state[0]) if state and state[0] else None
    mark = max(filter(None, [*updated, summary.hevy_newest_event, db.watermark("hevy", "workouts"), ours]), default=None)
    if mark is not None:
        text = mark.astimezone(timezone.utc).isoformat()
        store.land("hevy", "workouts", [], watermark=text,
                   detail={**(state[1] if state else {}), "imported_from": "health-sync", "path": str(db.path)})
        summary.watermarks["hevy/workouts"] = text
