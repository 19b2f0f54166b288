"""Moving a health-sync database over: both of its schemas import exactly what a sync of the same
sandbox landed (our resources, ids, days and payloads: Oura, Withings, Hevy, WHOOP, Strava), model the
same tidy rows, carry the data-time watermarks over, record the days health-sync had fetched as
materialized, keep deletions as tombstones, take tokens only when asked, and ask no provider; its Eight
Sleep nights land under the import's own provider and model as `eight_sleep`, the account holder's only."""

import json
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path
from statistics import fmean
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest

from health_pipeline.cli import main
from health_pipeline.dev.demo import write_sandbox_config
from health_pipeline.registry import TABLES, load_config
from health_pipeline.instance.home import open_instance
from health_pipeline.naming import landing_key
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld, night_for
from health_pipeline.sources.health_sync.database import DatabaseError
from health_pipeline.sources.health_sync.sandbox import eightsleep
from health_pipeline.sources.health_sync.sandbox.generate import DDL, write_health_sync
from health_pipeline.sources.health_sync.importer import import_health_sync
from health_pipeline.sources.strava.client import started
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.tidy.models import rebuild_table
from health_pipeline_tests.conftest import FROZEN_NOW, TIMEZONE, TODAY

START, END = TODAY - timedelta(days=12), TODAY - timedelta(days=1)
IMPORTED = {"oura": ["daily_activity", "daily_sleep", "daily_readiness", "sleep", "workout", "heartrate", "personal_info"],
            "withings": ["measures", "activity", "workouts", "sleep_summary"], "hevy": ["workouts"],
            "whoop": ["cycles", "recoveries", "sleeps", "workouts", "profile", "body_measurement"],
            "strava": ["activities", "athlete"]}
WHOOP_DATED = ("cycles", "recoveries", "sleeps", "workouts")
BERLIN = ZoneInfo(TIMEZONE)


def _config(folder: Path, sandbox: Sandbox) -> Path:
    fakes = {fake.mount: fake for fake in sandbox.fakes}
    sections = "".join(fakes[name].config_text(sandbox.url(name), START) for name in IMPORTED)
    text = (f'[app]\nraw_db = "raw.sqlite"\nduckdb = "health.duckdb"\ntimezone = "{TIMEZONE}"\nuser = "me"\n\n'
            + sections + f'\n[fitbit]\nstart_date = "{START}"\n')
    write_sandbox_config(folder / "health-pipeline.toml", text)
    return folder / "health-pipeline.toml"


def _live(store: RawStore, provider: str, resource: str) -> dict[str, tuple[str | None, object]]:
    return {r.record_id: (r.day, json.loads(r.payload)) for r in store.records(provider, resource)}


# The tidy tables and the providers whose rows come only from what health-sync keeps (it has no Withings
# intraday heart rate, no Oura daily_spo2 or stress, no Strava activity detail, ...).
TIDY = {"sleep_sessions": ("oura", "withings", "whoop"), "workouts": ("oura", "withings", "hevy", "whoop"),
        "workout_sets": ("hevy",), "body_measurements": ("withings",), "heart_rate": ("oura",),
        "heart_rate_zones": ("whoop",), "daily_activity": ("whoop",), "daily_vitals": ("whoop",),
        "daily_scores": ("whoop",)}


def _tidy(path: Path) -> dict[str, set[tuple]]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return {t: set(conn.execute(f"SELECT * EXCLUDE (person) FROM {t} WHERE list_contains(?, provider)", [list(p)]).fetchall())
                for t, p in TIDY.items()}


def _hashes(store: RawStore, provider: str, resource: str) -> dict[str, str]:
    return {r.record_id: r.payload_sha256 for r in store.records(provider, resource)}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _holders_nights(database: Path) -> list[dict[str, Any]]:
    """The account holder's Eight Sleep trend days in a health-sync database."""
    with sqlite3.connect(database) as conn:
        found = conn.execute("SELECT record_id, payload_json FROM records WHERE provider = 'eightsleep' "
                             "AND resource = 'trends'").fetchall()
    assert {rid.split(":")[0] for rid, _ in found} == {eightsleep.HOLDER_ID, eightsleep.PARTNER_ID}  # both sides
    return [json.loads(payload) for rid, payload in found if rid.startswith(f"{eightsleep.HOLDER_ID}:")]


def _eight_sleep_rows(nights: list[dict[str, Any]]) -> tuple[set[tuple], set[tuple]]:
    """The sleep_sessions and daily_vitals rows the nights make, worked out here from the payloads."""
    sleeps, vitals = set(), set()
    for trend in nights:
        [session] = trend["sessions"]
        stages, quality = session["stageSummary"], trend["sleepQualityScore"]
        day = _instant(trend["sleepEnd"]).astimezone(BERLIN).date()
        heart = [value for _, value in session["timeseries"]["heartRate"] if value != "None"]
        in_bed = stages["totalDuration"] - stages["outDuration"]
        assert in_bed == (_instant(trend["presenceEnd"]) - _instant(trend["presenceStart"])).total_seconds()
        sleeps.add(("eight_sleep", trend["mainSessionId"], day, _instant(trend["presenceStart"]),
                    _instant(trend["presenceEnd"]), True, in_bed, trend["sleepDuration"], trend["deepDuration"],
                    trend["lightDuration"], trend["remDuration"], stages["awakeDuration"],
                    quality["heartRate"]["current"], min(heart), quality["hrv"]["current"]))
        vitals.add(("eight_sleep", day, quality["hrv"]["current"], None, None, quality["respiratoryRate"]["current"],
                    None, None, None, None, quality["heartRate"]["current"], None, None))
    return sleeps, vitals


def _eight_sleep_tidy(path: Path) -> tuple[set[tuple], set[tuple], int]:
    with duckdb.connect(str(path), read_only=True) as conn:
        sleeps = conn.execute("SELECT * EXCLUDE (person) FROM sleep_sessions WHERE provider = 'eight_sleep'").fetchall()
        vitals = conn.execute("SELECT * EXCLUDE (person) FROM daily_vitals WHERE provider = 'eight_sleep'").fetchall()
    return set(sleeps), set(vitals), len(sleeps) + len(vitals)


@pytest.mark.parametrize("schema", ["python", "node"])
def test_a_health_sync_database_imports_what_a_sync_landed(tmp_path: Path, sandbox: Sandbox, world: SandboxWorld,
                                                           schema: str, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    synced = _config(tmp_path / "synced", sandbox)
    assert main(["--config", str(synced), "sync", "--start", str(START), "--end", str(END)]) == 0
    a = RawStore(tmp_path / "synced" / "raw.sqlite")
    # health-sync last synced at the sandbox's now; its Eight Sleep nights are the sandbox person's
    database = write_health_sync(a, tmp_path / "hs" / "health.sqlite", schema, synced_at=FROZEN_NOW, world=world,
                                 eight_sleep=(START, TODAY))

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster-fresh"))  # its own instance: what the import records
    (tmp_path / "dagster-fresh").mkdir()
    fresh = _config(tmp_path / "fresh", sandbox)
    b = RawStore(tmp_path / "fresh" / "raw.sqlite")
    tokens_before = {p: b.token(p) for p in ("oura", "withings")}
    requests = len(sandbox.log.entries())
    capsys.readouterr()
    assert main(["--config", str(fresh), "import", "health-sync", str(database)]) == 0
    assert len(sandbox.log.entries()) == requests  # no provider was asked
    for provider, resources in IMPORTED.items():
        for resource in resources:
            expected = _live(a, provider, resource)
            if (provider, resource) == ("withings", "activity"):  # health-sync keys a day's summary by date alone:
                last = {rid.split(":")[0]: rid for rid in sorted(expected)}  # a second device's overwrote the first's
                expected = {rid: expected[rid] for rid in last.values()}
                assert len(expected) < len(_live(a, provider, resource))
            assert _live(b, provider, resource) == expected, (provider, resource)
    for provider in ("whoop", "strava"):
        assert all(_live(a, provider, resource) for resource in IMPORTED[provider]), provider
        if schema == "python":  # the answers' key order and number forms kept: the very text a sync stored
            for resource in IMPORTED[provider]:
                assert _hashes(b, provider, resource) == _hashes(a, provider, resource), (provider, resource)
    deleted_a = {r.record_id for r in a.records("hevy", "workouts", include_deleted=True) if r.deleted_at}
    deleted_b = {r.record_id for r in b.records("hevy", "workouts", include_deleted=True) if r.deleted_at}
    assert deleted_b == deleted_a
    def mark(store: RawStore, provider: str, resource: str) -> str | None:
        return (store.sync_state(provider, resource) or (None, {}))[0]

    for resource in IMPORTED["withings"]:  # Withings' cursor: the newest `modified` landed (a data time)
        modified = [p["modified"] for _, p in _live(b, "withings", resource).values() if "modified" in p]
        assert mark(b, "withings", resource) == (str(max(modified)) if modified else None), resource
    newest = max([p["updated_at"] for _, p in _live(a, "hevy", "workouts").values()]
                 + [r.deleted_at for r in a.records("hevy", "workouts", include_deleted=True) if r.deleted_at])
    assert mark(b, "hevy", "workouts") == datetime.fromisoformat(newest.replace("Z", "+00:00")).isoformat()
    # Strava's cursor: the newest start landed, as its sync writes it
    assert mark(a, "strava", "activities") is None  # a window sync sets none
    assert mark(b, "strava", "activities") == max(started(p) for _, p in _live(a, "strava", "activities").values()
                                                  ).isoformat()
    assert {p: b.token(p) for p in ("oura", "withings")} == tokens_before  # not taken by default
    tidy_a, tidy_b = _tidy(tmp_path / "synced" / "health.duckdb"), _tidy(tmp_path / "fresh" / "health.duckdb")
    for table in TIDY:
        assert tidy_b[table] == tidy_a[table] and tidy_a[table], table
    # Oura days health-sync had fetched (less its 7-day overlap) count as materialized: `sync` asks for the rest;
    # so do WHOOP's (it re-lists them whole on every sync), from the database's first WHOOP day.
    fetched_through = FROZEN_NOW.astimezone(BERLIN).date() - timedelta(days=7)
    first_whoop = min(date.fromisoformat(day) for r in WHOOP_DATED for day, _ in _live(a, "whoop", r).values())
    with open_instance(load_config(fresh)) as instance:
        done = instance.get_materialized_partitions(landing_key("oura", "daily_activity"))
        whoop_done = {r: set(instance.get_materialized_partitions(landing_key("whoop", r))) for r in WHOOP_DATED}
    assert min(done) == str(START) and max(done) == str(fetched_through)
    assert whoop_done == {r: {str(first_whoop + timedelta(days=n)) for n in range((fetched_through - first_whoop).days + 1)}
                          for r in WHOOP_DATED}
    # Eight Sleep: its records under the import's own provider, the account holder's nights modelled as eight_sleep
    nights = _holders_nights(database)
    with sqlite3.connect(database) as conn:
        kept = {(resource, rid): json.loads(payload) for resource, rid, payload in conn.execute(
            "SELECT resource, record_id, payload_json FROM records WHERE provider = 'eightsleep'")}
    assert {(r[len("eightsleep_"):], rid): p for r in ("eightsleep_users_me", "eightsleep_devices", "eightsleep_users",
                                                      "eightsleep_trends")
            for rid, (_, p) in _live(b, "health_sync", r).items()} == kept
    assert any(t["sessions"][0]["stageSummary"]["outDuration"] for t in nights)  # a session begun off the bed
    assert any(t["sessions"][0]["timeseries"]["heartRate"][0][1] == "None" for t in nights)  # the API's gap
    sleeps, vitals, count = _eight_sleep_tidy(tmp_path / "fresh" / "health.duckdb")
    assert (sleeps, vitals, count) == (*_eight_sleep_rows(nights), 2 * len(nights)) and len(nights) >= 10
    # ... the same nights the other sources saw: WHOOP's scored main sleeps began and slept alike
    whoop = {row[2]: row for row in tidy_b["sleep_sessions"] if row[0] == "whoop" and row[5] and row[7] is not None}
    agree = [(row[3], row[7]) == (whoop[row[2]][3], whoop[row[2]][7]) for row in sleeps if row[2] in whoop]
    assert agree and all(agree)

    # The next sync asks Withings only for what changed since the imported cursor.
    cursors = {resource: int(mark(b, "withings", resource) or 0) for resource in ("measures", "workouts", "sleep_summary")}
    sandbox.log.clear()
    assert main(["--config", str(fresh), "sync", "--provider", "withings"]) == 0
    asked: dict[str, list[str | None]] = {}
    for e in sandbox.log.entries("withings", "/"):
        if e.params.get("action") in ("getmeas", "getworkouts", "getsummary"):
            asked.setdefault(e.params["action"], []).append(e.params.get("lastupdate"))
    assert {action: found[0] for action, found in asked.items()} == {
        "getmeas": str(cursors["measures"] - 3600), "getworkouts": str(cursors["workouts"] - 3600),
        "getsummary": str(cursors["sleep_summary"] - 3600)}

    again = import_health_sync(database, b, BERLIN)
    assert (again.counts.new, again.counts.changed, again.tombstones) == (0, 0, 0)
    summary = capsys.readouterr()
    assert "stop health-sync" not in summary.err

    assert main(["--config", str(fresh), "import", "health-sync", str(database), "--take-tokens"]) == 0
    for provider in ("oura", "withings"):
        assert b.token(provider).access_token == a.token(provider).access_token
    assert "stop health-sync now" in capsys.readouterr().err
    assert _eight_sleep_tidy(tmp_path / "fresh" / "health.duckdb")[2] == count  # modelled once


def _database(path: Path, rows: list[tuple], states: list[tuple] = (), fetched_at: str = "2026-02-19T10:00:00Z") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.executescript(DDL)
        conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [(*row, fetched_at) for row in rows])
        conn.executemany("INSERT INTO sync_state (provider, resource, watermark, updated_at) VALUES (?, ?, ?, ?)",
                         [(*state, fetched_at) for state in states])
    return path


def test_hevy_deletions_become_tombstones_and_its_newest_event_the_cursor(tmp_path: Path) -> None:
    kept = {"id": "w-updated", "start_time": "2026-02-12T06:00:00Z", "end_time": "2026-02-12T07:00:00Z",
            "updated_at": "2026-02-12T08:00:00Z"}
    gone = {"deleted_at": "2026-02-13T09:00:00Z", "id": "w-deleted", "type": "deleted"}
    db = _database(tmp_path / "health.sqlite", [
        ("hevy", "workouts", "w-updated", "2026-02-12T06:00:00Z", None, "2026-02-12T08:00:00Z", json.dumps(kept)),
        ("hevy", "workout_events", "deleted:w-deleted:2026-02-13T09:00:00Z", None, None, None, json.dumps(gone)),
        ("garmin", "activities", "1", None, None, None, "{}"),
    ], [("hevy", "workouts", "2026-02-13T09:00:00Z")])
    store = RawStore(tmp_path / "raw.sqlite")
    summary = import_health_sync(db, store, BERLIN)
    assert summary.schema == "node" and summary.skipped == {"garmin/activities": 1}
    rows = {r.record_id: (r.day, r.deleted_at) for r in store.records("hevy", "workouts", include_deleted=True)}
    assert rows == {"w-updated": ("2026-02-12", None), "w-deleted": (None, "2026-02-13T09:00:00Z")}
    assert store.sync_state("hevy", "workouts")[0] == "2026-02-13T09:00:00+00:00"
    assert import_health_sync(db, store, BERLIN).tombstones == 0  # again: nothing new


def test_a_python_database_is_recognised_and_a_bad_row_fails_only_its_resource(tmp_path: Path) -> None:
    doc = {"id": "a1", "day": "2024-01-01", "steps": 5000}
    db = _database(tmp_path / "health.sqlite", [
        ("oura", "daily_activity", "a1", "2024-01-01", None, None, json.dumps(doc)),
        ("withings", "measures", "9", "2024-01-01T07:00:00Z", None, "1704092400", json.dumps({"date": 1704092400})),
    ])
    store = RawStore(tmp_path / "raw.sqlite")
    summary = import_health_sync(db, store, BERLIN)
    assert summary.schema == "python"
    assert summary.failed == ["withings/measures record '9': the payload lacks its id"]
    assert [(r.record_id, r.day) for r in store.records("oura", "daily_activity")] == [("a1", "2024-01-01")]
    assert store.records("withings", "measures") == []


def test_a_file_that_is_not_a_health_sync_database_is_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "health.sqlite"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(DatabaseError, match=r"health\.sqlite: not a SQLite database"):
        import_health_sync(junk, RawStore(tmp_path / "raw.sqlite"), BERLIN)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (x TEXT)")
    with pytest.raises(DatabaseError, match=r"other\.sqlite: not a health-sync database \(no records, sync_state table\)"):
        import_health_sync(other, RawStore(tmp_path / "raw.sqlite"), BERLIN)


def test_the_cli_refuses_a_missing_file_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "health-pipeline.toml"
    config.write_text('[app]\nraw_db = "raw.sqlite"\n', encoding="utf-8")
    assert main(["--config", str(config), "import", "health-sync", str(tmp_path / "nope.sqlite")]) == 2
    assert capsys.readouterr().err.strip().endswith("nope.sqlite: no such file or folder")
    assert load_config(config).importer("health_sync").take_tokens is False


def test_whoop_and_strava_land_under_our_ids_days_and_cursor(tmp_path: Path) -> None:
    cycle = {"id": 11, "start": "2026-02-10T22:00:00.000Z", "end": "2026-02-11T22:30:00.000Z", "timezone_offset": "+01:00"}
    sleep = {"id": "s-12", "cycle_id": 12, "start": "2026-02-11T22:30:00.000Z", "end": "2026-02-12T06:30:00.000Z",
             "timezone_offset": "+01:00", "nap": False}
    recoveries = [{"cycle_id": 11, "sleep_id": "s-11"}, {"cycle_id": 12, "sleep_id": "s-12"},
                  {"cycle_id": 13, "sleep_id": "s-13"}]  # 13: neither its cycle nor its sleep is in the database
    runs = [{"id": 901, "start_date": "2026-02-12T17:30:00Z", "start_date_local": "2026-02-12T18:30:00Z"},
            {"id": 902, "start_date": "2026-02-13T23:30:00Z", "start_date_local": "2026-02-14T00:30:00Z"}]
    db = _database(tmp_path / "health.sqlite", [
        ("whoop", "cycles", "11", None, None, None, json.dumps(cycle)),
        ("whoop", "sleep", "s-12", None, None, None, json.dumps(sleep)),
        *(("whoop", "recoveries", str(r["cycle_id"]), None, None, None, json.dumps(r)) for r in recoveries),
        ("whoop", "profile_basic", "7", None, None, None, json.dumps({"user_id": 7, "first_name": "A"})),
        ("whoop", "body_measurement", "me", None, None, None, json.dumps({"height_meter": 1.8})),
        *(("strava", "activities", str(r["id"]), r["start_date"], None, None, json.dumps(r)) for r in runs),
        ("strava", "athlete", "5", None, None, None, json.dumps({"id": 5})),
    ], [("whoop", "cycles", "2026-02-11T22:30:00Z"), ("whoop", "sleep", "2026-02-12T06:30:00Z")])
    store = RawStore(tmp_path / "raw.sqlite")
    summary = import_health_sync(db, store, BERLIN)
    assert summary.failed == [] and summary.skipped == {"whoop/recoveries without their cycle or sleep": 1}
    assert {r.record_id: r.day for r in store.records("whoop", "recoveries")} == {"11": "2026-02-11", "12": "2026-02-12"}
    assert [(r.record_id, r.day) for r in store.records("whoop", "sleeps")] == [("s-12", "2026-02-12")]
    assert [r.record_id for r in store.records("whoop", "profile")] == ["7"]
    assert [r.record_id for r in store.records("whoop", "body_measurement")] == ["me"]
    assert [(r.record_id, r.day) for r in store.records("strava", "activities")] == [("901", "2026-02-12"),
                                                                                   ("902", "2026-02-14")]
    assert store.sync_state("strava", "activities")[0] == "2026-02-13T23:30:00+00:00"
    # WHOOP's days up to each collection's last sync (19 Feb) less its 7-day overlap
    assert summary.fetched_through == {("whoop", "cycles"): date(2026, 2, 12), ("whoop", "sleeps"): date(2026, 2, 12)}
    assert summary.first_day("whoop") == date(2026, 2, 11)
    # a cursor the store already holds further on is never moved back, and a sync's bookkeeping is kept
    later = RawStore(tmp_path / "later.sqlite")
    later.land("strava", "activities", [], watermark="2026-03-01T00:00:00+00:00", detail={"relisted_at": "x"})
    import_health_sync(db, later, BERLIN)
    assert later.sync_state("strava", "activities")[0] == "2026-03-01T00:00:00+00:00"
    assert later.sync_state("strava", "activities")[1]["relisted_at"] == "x"


def test_eight_sleep_lands_as_our_own_and_a_newer_database_replaces_it(tmp_path: Path) -> None:
    # A night ending 00:30 in Berlin: its label (health-sync asks in UTC) is the day before.
    night = {"day": "2026-02-11", "sleepEnd": "2026-02-11T23:30:00.000Z", "presenceEnd": "2026-02-11T23:40:00.000Z",
             "sleepDuration": 18000}
    me = {"user": {"userId": "u1"}}

    def database(name: str, fetched_at: str, payload: dict[str, Any]) -> Path:
        return _database(tmp_path / name / "health.sqlite", [
            ("eightsleep", "users_me", "me", None, None, None, json.dumps(me)),
            ("eightsleep", "trends", "u1:2026-02-11", "2026-02-11T00:00:00Z", None, None, json.dumps(payload))],
            [("eightsleep", "trends", fetched_at)], fetched_at=fetched_at)

    store = RawStore(tmp_path / "raw.sqlite")
    older = database("older", "2026-02-12T08:00:00Z", night)
    newer = database("newer", "2026-02-13T08:00:00Z", {**night, "sleepDuration": 18300})
    import_health_sync(older, store, BERLIN)
    assert [(r.record_id, r.day) for r in store.records("health_sync", "eightsleep_trends")] == [("u1:2026-02-11",
                                                                                                 "2026-02-12")]
    assert [r.record_id for r in store.records("health_sync", "eightsleep_users_me")] == ["me"]
    assert import_health_sync(newer, store, BERLIN).counts.changed == 1  # a more recent copy replaces the older
    assert import_health_sync(older, store, BERLIN).counts.changed == 0  # never the other way round
    [kept] = store.records("health_sync", "eightsleep_trends")
    assert json.loads(kept.payload)["sleepDuration"] == 18300


def test_a_grown_database_imported_again_models_each_night_once(tmp_path: Path) -> None:
    world = SandboxWorld(seed=7, days=60, timezone=TIMEZONE, clock=SandboxClock(FROZEN_NOW))
    empty, store = RawStore(tmp_path / "empty.sqlite"), RawStore(tmp_path / "raw.sqlite")
    empty.init()
    nights = [day for n in range(10) if night_for(world, day := TODAY - timedelta(days=n)) and eightsleep.at_home(world, day)]
    with duckdb.connect() as conn:
        for name, first in (("older", TODAY - timedelta(days=4)), ("newer", TODAY - timedelta(days=9))):
            database = write_health_sync(empty, tmp_path / name / "health.sqlite", "node", synced_at=FROZEN_NOW,
                                         world=world, eight_sleep=(first, TODAY))
            import_health_sync(database, store, BERLIN)
            rebuild_table(conn, store, TABLES["sleep_sessions"], TODAY - timedelta(days=9), TODAY, timezone=TIMEZONE)
        rows = conn.execute("SELECT count(*) FROM sleep_sessions WHERE provider = 'eight_sleep'").fetchone()[0]
    assert rows == len(nights)
