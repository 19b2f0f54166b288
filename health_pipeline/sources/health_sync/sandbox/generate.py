"""health-sync databases from the sandbox's answers, in the Python or the Node release's schema, for tests
and the demo: a raw store synced from the sandbox (the providers' verbatim answers) written the way
health-sync keeps them (health-sync-db.md): one row per item under its record-id rules and resource names
(WHOOP's `sleep`, `profile_basic`), Python's compact ASCII JSON in the answer's key order or Node's sorted
keys and JavaScript numbers (`70.0` is `70`), Python's raw dates and epoch strings or Node's `…Z` times,
its deletions hard (the workout gone, the event kept), tokens in `oauth_tokens` (Python) or
`.health-sync.creds` (Node), and watermarks as health-sync sets them (sync times for Oura, Withings, the
profiles and Eight Sleep; the newest update for WHOOP's collections and Hevy, the newest start for
Strava). The Python release had no WHOOP: a "python" database holds its rows in that release's style
all the same. Eight Sleep has no fake API: given the sandbox world, its rows are the person's nights
(`eightsleep.py`).
"""

import json
import sqlite3
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from health_pipeline.sandbox.world import SandboxWorld
from health_pipeline.sources.health_sync.database import CREDS_FILE, Schema, parse_instant
from health_pipeline.sources.health_sync.sandbox import eightsleep
from health_pipeline.storage.raw_store import RawStore

DDL = """
CREATE TABLE IF NOT EXISTS records(provider TEXT NOT NULL, resource TEXT NOT NULL, record_id TEXT NOT NULL,
  start_time TEXT, end_time TEXT, source_updated_at TEXT, payload_json TEXT NOT NULL, fetched_at TEXT NOT NULL,
  PRIMARY KEY (provider, resource, record_id));
CREATE TABLE IF NOT EXISTS sync_state(provider TEXT NOT NULL, resource TEXT NOT NULL, watermark TEXT, cursor TEXT,
  extra_json TEXT, updated_at TEXT NOT NULL, PRIMARY KEY (provider, resource));
CREATE TABLE IF NOT EXISTS oauth_tokens(provider TEXT PRIMARY KEY, access_token TEXT NOT NULL, refresh_token TEXT,
  token_type TEXT, scope TEXT, expires_at TEXT, obtained_at TEXT NOT NULL, extra_json TEXT);
CREATE TABLE IF NOT EXISTS sync_runs(id INTEGER PRIMARY KEY AUTOINCREMENT, provider TEXT NOT NULL,
  resource TEXT NOT NULL, status TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, watermark_before TEXT,
  watermark_after TEXT, inserted_count INTEGER NOT NULL DEFAULT 0, updated_count INTEGER NOT NULL DEFAULT 0,
  deleted_count INTEGER NOT NULL DEFAULT 0, unchanged_count INTEGER NOT NULL DEFAULT 0, error_text TEXT);
"""
OURA = ("daily_activity", "daily_sleep", "daily_readiness", "sleep", "workout")
WITHINGS_IDS = {"measures": "grpid", "activity": "date", "workouts": "id", "sleep_summary": "id"}
# WHOOP's resources here -> health-sync's
WHOOP_COLLECTIONS = {"cycles": "cycles", "recoveries": "recoveries", "sleeps": "sleep", "workouts": "workouts"}
WHOOP_PROFILES = {"profile": "profile_basic", "body_measurement": "body_measurement"}


def _z(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch_text(value: Any, schema: Schema) -> str | None:
    if not isinstance(value, int):
        return None
    return str(value) if schema == "python" else _z(datetime.fromtimestamp(value, timezone.utc))


def _time_text(value: Any, schema: Schema) -> str | None:
    """A provider time string as the release stores it: as sent (Python) or UTC `…Z` (Node)."""
    if not isinstance(value, str):
        return None
    if schema == "python":
        return value
    if len(value) == 10:
        return f"{value}T00:00:00Z"
    return _z(datetime.fromisoformat(value.replace("Z", "+00:00")))


def _js(value: Any) -> Any:
    """A value as JavaScript's JSON.stringify writes it: a whole float has no `.0`."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _js(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_js(v) for v in value]
    return value


def _payload(item: Any, schema: Schema) -> str:
    if schema == "python":
        return json.dumps(item, separators=(",", ":"), ensure_ascii=True)
    return json.dumps(_js(item), separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _epoch_z(text: Any) -> str | None:
    """A time as health-sync's `toEpochSeconds` then `dtToIsoZ` leave it: whole seconds, UTC `…Z`."""
    at = parse_instant(text)
    return _z(at) if at else None


def write_health_sync(store: RawStore, target: Path, schema: Schema, *, synced_at: datetime | None = None,
                      with_tokens: bool = True, world: SandboxWorld | None = None,
                      eight_sleep: tuple[date, date] | None = None) -> Path:
    """Write the store's Oura, Withings, Hevy, WHOOP and Strava records into a new health-sync database at
    `target`, and with `world` the Eight Sleep nights ending on the days `eight_sleep` (first, last) by
    `synced_at`, as health-sync asks for them (`tz=UTC`, its default)."""
    moment = synced_at or datetime.now(timezone.utc)
    now = _z(moment)
    rows: list[tuple[Any, ...]] = []
    for resource in OURA:
        for r in store.records("oura", resource):
            doc = json.loads(r.payload)
            rows.append(("oura", resource, doc["id"], _time_text(doc.get("day"), schema), None, None, _payload(doc, schema)))
    for r in store.records("oura", "heartrate"):
        for sample in json.loads(r.payload):
            rows.append(("oura", "heartrate", sample["timestamp"], _time_text(sample["timestamp"], schema), None,
                         _time_text(sample["timestamp"], schema), _payload(sample, schema)))
    for r in store.records("oura", "personal_info"):
        rows.append(("oura", "personal_info", "me", None, None, None, _payload(json.loads(r.payload), schema)))
    for resource, key in WITHINGS_IDS.items():
        for r in store.records("withings", resource):
            item = json.loads(r.payload)
            start = item.get("date") if resource == "measures" else item.get("startdate")
            rows.append(("withings", resource, str(item[key]),
                         _epoch_text(start, "node") if resource != "activity" else _time_text(item.get("date"), schema),
                         _epoch_text(item.get("enddate"), "node"), _epoch_text(item.get("modified"), schema),
                         _payload(item, schema)))
    newest_update = None
    for r in store.records("hevy", "workouts", include_deleted=True):
        workout = json.loads(r.payload)
        if r.deleted_at is None:
            rows.append(("hevy", "workouts", workout["id"], _time_text(workout.get("start_time"), schema),
                         _time_text(workout.get("end_time"), schema), _time_text(workout.get("updated_at"), schema),
                         _payload(workout, schema)))
            newest_update = max(filter(None, [newest_update, workout.get("updated_at")]))
        else:  # health-sync deletes the workout and keeps the event
            event = {"id": workout["id"], "type": "deleted", "deleted_at": r.deleted_at}
            rows.append(("hevy", "workout_events", f"deleted:{workout['id']}:{r.deleted_at}",
                         _time_text(r.deleted_at, schema), None, _time_text(r.deleted_at, schema), _payload(event, schema)))
    marks: dict[str, str] = {}
    for ours, theirs in WHOOP_COLLECTIONS.items():
        for r in store.records("whoop", ours):
            item = json.loads(r.payload)
            start = item.get("start") or item.get("created_at") or item.get("updated_at")
            updated = item.get("updated_at") or item.get("created_at") or start
            record_id = str(item["id"]) if item.get("id") is not None else str(item["cycle_id"])
            rows.append(("whoop", theirs, record_id, _time_text(start, schema), _time_text(item.get("end"), schema),
                         _time_text(updated, schema), _payload(item, schema)))
            marks[theirs] = max(filter(None, [marks.get(theirs), _epoch_z(updated)]), default=now)  # the newest update
    for ours, theirs in WHOOP_PROFILES.items():
        for r in store.records("whoop", ours):
            item = json.loads(r.payload)
            record_id = str(item["user_id"]) if item.get("user_id") is not None else "me"
            rows.append(("whoop", theirs, record_id, _time_text(item.get("created_at"), schema), None,
                         _time_text(item.get("updated_at"), schema) or now, _payload(item, schema)))
            marks[theirs] = now
    for r in store.records("strava", "activities"):
        item = json.loads(r.payload)
        rows.append(("strava", "activities", str(item["id"]), _time_text(item["start_date"], schema), None,
                     _time_text(item.get("updated_at") or item["start_date"], schema), _payload(item, schema)))
        marks["activities"] = max(filter(None, [marks.get("activities"), _epoch_z(item["start_date"])]), default=now)
    for r in store.records("strava", "athlete"):
        item = json.loads(r.payload)
        rows.append(("strava", "athlete", str(item.get("id") or "me"), None, None, now, _payload(item, schema)))
        marks["athlete"] = now
    if world is not None and eight_sleep is not None:
        rows += _eight_sleep_rows(world, eight_sleep, moment, schema, now)
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(target) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(DDL)
        conn.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [(*row, now) for row in rows])
        states = [("oura", r, now) for r in (*OURA, "heartrate", "personal_info")]
        states += [("withings", r, now) for r in WITHINGS_IDS]  # health-sync's "now": a sync time, not a data time
        if newest_update:
            states.append(("hevy", "workouts", _time_text(newest_update, "node")))
        states += [("whoop", theirs, marks[theirs]) for theirs in (*WHOOP_PROFILES.values(), *WHOOP_COLLECTIONS.values())
                   if theirs in marks]
        states += [("strava", resource, marks[resource]) for resource in ("athlete", "activities") if resource in marks]
        if any(row[0] == "eightsleep" for row in rows):
            states += [("eightsleep", resource, now) for resource in ("users_me", "devices", "users", "trends")]
        conn.executemany("INSERT INTO sync_state (provider, resource, watermark, updated_at) VALUES (?, ?, ?, ?)",
                         [(p, r, w, now) for p, r, w in states])
        tokens = {p: store.token(p) for p in ("oura", "withings")}
        if with_tokens and schema == "python":
            conn.executemany("INSERT INTO oauth_tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
                (p, t.access_token, t.refresh_token, t.token_type, t.scope, _z(t.expires_at) if t.expires_at else None,
                 now, json.dumps({"method": "oauth"})) for p, t in tokens.items() if t is not None])
    if with_tokens and schema == "node":
        creds = {"tokens": {p: {"accessToken": t.access_token, "refreshToken": t.refresh_token, "tokenType": t.token_type,
                                "scope": t.scope, "expiresAt": _z(t.expires_at) if t.expires_at else None,
                                "obtainedAt": now, "extra": {}} for p, t in tokens.items() if t is not None},
                 "updatedAt": now, "version": 1}
        path = target.parent / CREDS_FILE
        path.write_text(json.dumps(creds, sort_keys=True), encoding="utf-8")
        path.chmod(0o600)
    return target


def _eight_sleep_rows(world: SandboxWorld, days: tuple[date, date], moment: datetime, schema: Schema,
                      now: str) -> list[tuple[Any, ...]]:
    """health-sync's Eight Sleep rows: `users_me` (keyed "me": the answer's user has `userId`, not `id`), the
    Pod (`devices`), both sides' `users` and `trends` (`{userId}:{day}`; start the `day` label, end the
    presence's end, updated its start)."""
    rows: list[tuple[Any, ...]] = [
        ("eightsleep", "users_me", "me", None, None, now, _payload(eightsleep.users_me(world), schema)),
        ("eightsleep", "devices", eightsleep.DEVICE_ID, None, None, now, _payload(eightsleep.device(world), schema)),
        *(("eightsleep", "users", user, None, None, now, _payload(answer, schema))
          for user, answer in eightsleep.users(world).items())]
    for user, trend in eightsleep.trend_days(world, *days, moment):
        rows.append(("eightsleep", "trends", f"{user}:{trend['day']}", _time_text(trend["day"], schema),
                     _time_text(trend["presenceEnd"], schema), _time_text(trend["presenceStart"], schema),
                     _payload(trend, schema)))
    return rows
