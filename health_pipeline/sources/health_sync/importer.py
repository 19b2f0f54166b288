"""Moving a health-sync database into the raw store, without asking any provider for a record.

Its Oura, Withings and Hevy records land under the providers' own resources and our record ids, as
a sync would have landed them (payload hashes recomputed from the parsed JSON, so the Python and the
Node release, whose serialisations differ, land the same; a record the raw store already holds is
left as it is, so an older database never overwrites what a sync landed since): Oura documents by `id` on their `day`,
Oura heart rate grouped into one record per local day, Withings items by `grpid` / `date:device` /
`id`, Hevy workouts by `id`. Hevy `deleted` events (health-sync hard-deletes the workout) become
tombstones. Each (provider, resource) lands in one transaction. Watermarks carried over are data
times: Withings' newest `modified`, Hevy's newest event (health-sync's own Oura and Withings
watermarks are sync times, not data times, and are not taken). Other providers (Strava, Whoop, …)
and resources we do not sync are counted and skipped.
"""

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from health_pipeline.sources.health_sync.database import DatabaseError, HealthSyncDatabase, Row, Token, parse_instant
from health_pipeline.sources.withings.client import CATALOGUE as WITHINGS_CATALOGUE
from health_pipeline.sources.withings.client import item_day
from health_pipeline.storage.raw_store import LandingCounts, RawRecord, RawStore

OURA_DOCUMENTS = {"daily_activity": "day", "daily_sleep": "day", "daily_readiness": "day", "sleep": "day",
                  "workout": "day"}
WITHINGS = ("measures", "activity", "workouts", "sleep_summary")
OVERLAP_DAYS = 7  # what health-sync refetches of Oura on its next sync; ours does the same


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
    oura_done_through: date | None = None  # health-sync's last Oura sync, less its overlap
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
        if self.skipped:
            out.append("  not imported: " + ", ".join(f"{k} ({n} rows)" for k, n in sorted(self.skipped.items())))
        if self.tokens_taken:
            out.append(f"  tokens taken: {', '.join(self.tokens_taken)}: stop health-sync now (its refresh tokens "
                       f"rotate, so whichever program refreshes second is locked out)")
        out += [f"  FAILED {line}" for line in self.failed]
        return out

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
        oura_synced = db.watermark("oura", "daily_activity")
        if oura_synced is not None and any(k[0] == "oura" for k in summary.resources):
            summary.oura_done_through = date.fromordinal(oura_synced.astimezone(tz).date().toordinal() - OVERLAP_DAYS)
        if take_tokens:
            for provider, token in db.tokens().items():
                if provider in ("oura", "withings"):
                    _save(store, token)
                    summary.tokens_taken.append(provider)
    return summary


def _save(store: RawStore, token: Token) -> None:
    store.save_token(token.provider, access_token=token.access_token, refresh_token=token.refresh_token,
                     token_type=token.token_type, scope=token.scope, expires_at=token.expires_at)


def _land(db: HealthSyncDatabase, store: RawStore, tz: ZoneInfo, provider: str, resource: str,
          summary: HealthSyncSummary) -> None:
    rows = list(db.rows(provider, resource))
    key = f"{provider}/{resource}"
    watermark: str | None = None
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
    else:
        summary.skipped[key] = len(rows)
        return
    # Only records the raw store does not hold yet: a copy already there came from the provider (a sync)
    # or from this same database, and an older database must never overwrite what a sync landed since.
    held = {r.record_id for r in store.records(provider, resource, include_deleted=True)}
    landing = [r for r in records if r.record_id not in held]
    counts = store.land(provider, resource, landing, watermark=watermark,
                        detail={"imported_from": "health-sync", "path": str(db.path)} if watermark else None)
    counts.unchanged += len(records) - len(landing)
    summary.counts += counts
    found = summary.resources.setdefault((provider, resource), ResourceSummary())
    found.rows += len(rows)
    found.records += len(records)
    found.days.update(r.day for r in records if r.day)
    if watermark:
        summary.watermarks[key] = watermark


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
        store.land("hevy", "workouts", [], watermark=text)
        summary.watermarks["hevy/workouts"] = text
