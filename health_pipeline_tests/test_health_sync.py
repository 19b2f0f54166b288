"""Moving a health-sync database over: both of its schemas import exactly what a sync of the same
sandbox landed (our resources, ids, days and payloads), model the same tidy rows, carry the data-time
watermarks over, keep deletions as tombstones, take tokens only when asked, and ask no provider."""

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from health_pipeline.cli import main
from health_pipeline.registry import load_config
from health_pipeline.instance.home import open_instance
from health_pipeline.naming import landing_key
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sources.health_sync.database import DatabaseError
from health_pipeline.sources.health_sync.sandbox.generate import write_health_sync
from health_pipeline.sources.health_sync.importer import import_health_sync
from health_pipeline.storage.raw_store import RawStore
from health_pipeline_tests.conftest import TIMEZONE, TODAY

START, END = TODAY - timedelta(days=12), TODAY - timedelta(days=1)
IMPORTED = {"oura": ["daily_activity", "daily_sleep", "daily_readiness", "sleep", "workout", "heartrate", "personal_info"],
            "withings": ["measures", "activity", "workouts", "sleep_summary"], "hevy": ["workouts"]}
BERLIN = ZoneInfo(TIMEZONE)


def _config(folder: Path, sandbox: Sandbox) -> Path:
    from health_pipeline.dev.demo import write_sandbox_config

    fakes = {fake.mount: fake for fake in sandbox.fakes}
    sections = "".join(fakes[name].config_text(sandbox.url(name), START) for name in IMPORTED)
    text = (f'[app]\nraw_db = "raw.sqlite"\nduckdb = "health.duckdb"\ntimezone = "{TIMEZONE}"\nuser = "tester"\n\n'
            + sections + f'\n[fitbit]\nstart_date = "{START}"\n')
    write_sandbox_config(folder / "health-pipeline.toml", text)
    return folder / "health-pipeline.toml"


def _live(store: RawStore, provider: str, resource: str) -> dict[str, tuple[str | None, object]]:
    return {r.record_id: (r.day, json.loads(r.payload)) for r in store.records(provider, resource)}


# The tidy tables and the providers whose rows come only from what health-sync keeps (it has no Withings
# intraday heart rate, no Oura daily_spo2 or stress, ...).
TIDY = {"sleep_sessions": ("oura", "withings"), "workouts": ("oura", "withings", "hevy"), "workout_sets": ("hevy",),
        "body_measurements": ("withings",), "heart_rate": ("oura",)}


def _tidy(path: Path) -> dict[str, set[tuple]]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return {t: set(conn.execute(f"SELECT * FROM {t} WHERE list_contains(?, provider)", [list(p)]).fetchall())
                for t, p in TIDY.items()}


@pytest.mark.parametrize("schema", ["python", "node"])
def test_a_health_sync_database_imports_what_a_sync_landed(tmp_path: Path, sandbox: Sandbox, schema: str,
                                                           capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    synced = _config(tmp_path / "synced", sandbox)
    assert main(["--config", str(synced), "sync", "--start", str(START), "--end", str(END)]) == 0
    a = RawStore(tmp_path / "synced" / "raw.sqlite")
    database = write_health_sync(a, tmp_path / "hs" / "health.sqlite", schema)

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
    assert {p: b.token(p) for p in ("oura", "withings")} == tokens_before  # not taken by default
    tidy_a, tidy_b = _tidy(tmp_path / "synced" / "health.duckdb"), _tidy(tmp_path / "fresh" / "health.duckdb")
    for table in TIDY:
        assert tidy_b[table] == tidy_a[table] and tidy_a[table], table
    # Oura days health-sync had fetched (less its 7-day overlap) count as materialized: `sync` asks for the rest.
    with open_instance(load_config(fresh)) as instance:
        done = instance.get_materialized_partitions(landing_key("oura", "daily_activity"))
    assert min(done) == str(START) and max(done) >= str(TODAY - timedelta(days=8))

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


def _database(path: Path, rows: list[tuple], states: list[tuple] = ()) -> Path:
    from health_pipeline.sources.health_sync.sandbox.generate import DDL

    with sqlite3.connect(path) as conn:
        conn.executescript(DDL)
        conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, '2026-02-19T10:00:00Z')", rows)
        conn.executemany("INSERT INTO sync_state (provider, resource, watermark, updated_at) VALUES (?, ?, ?, "
                         "'2026-02-19T10:00:00Z')", states)
    return path


def test_hevy_deletions_become_tombstones_and_its_newest_event_the_cursor(tmp_path: Path) -> None:
    kept = {"id": "w-updated", "start_time": "2026-02-12T06:00:00Z", "end_time": "2026-02-12T07:00:00Z",
            "updated_at": "2026-02-12T08:00:00Z"}
    gone = {"deleted_at": "2026-02-13T09:00:00Z", "id": "w-deleted", "type": "deleted"}
    db = _database(tmp_path / "health.sqlite", [
        ("hevy", "workouts", "w-updated", "2026-02-12T06:00:00Z", None, "2026-02-12T08:00:00Z", json.dumps(kept)),
        ("hevy", "workout_events", "deleted:w-deleted:2026-02-13T09:00:00Z", None, None, None, json.dumps(gone)),
        ("strava", "activities", "1", None, None, None, "{}"),
    ], [("hevy", "workouts", "2026-02-13T09:00:00Z")])
    store = RawStore(tmp_path / "raw.sqlite")
    summary = import_health_sync(db, store, BERLIN)
    assert summary.schema == "node" and summary.skipped == {"strava/activities": 1}
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
