"""The raw store contract: schema, file mode, WAL, idempotent upserts, windows, tombstones, tokens.

Every test taking `store` runs against both backends: a SQLite file, and a new database on a real
PostgreSQL server (slow: it starts the server once per session)."""

import hashlib
import multiprocessing
import sqlite3
import time
import stat
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from health_pipeline.storage.raw_sqlite import SCHEMA_1
from health_pipeline.storage.raw_store import SCHEMA_VERSION, RawRecord, RawStore, RawStoreError, canonical_json


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> RawStore:
    location = tmp_path / "sub" / "raw.sqlite" if request.param == "sqlite" else request.getfixturevalue("raw_postgres_url")
    raw = RawStore(location)
    raw.init()
    return raw


def rows(store: RawStore, sql: str, *params: object) -> list[tuple]:
    """The rows of `sql` (`?` marks), read past the store's API, on either backend."""
    with store.connection() as conn:
        return [tuple(row) for row in conn.execute(sql, params).fetchall()]


def tables(store: RawStore) -> set[str]:
    if store.path:
        return {name for (name,) in rows(store, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {name for (name,) in rows(store, "SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = current_schema()")}


def columns(store: RawStore, table: str) -> list[str]:
    if store.path:
        return [c[1] for c in rows(store, f"PRAGMA table_info({table})")]
    return [name for (name,) in rows(store, "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                                            "AND table_schema = current_schema() ORDER BY ordinal_position", table)]


def doc(record_id: str, day: str, steps: int) -> RawRecord:
    return RawRecord(record_id, day, {"id": record_id, "day": day, "steps": steps})


def test_init_creates_the_contract_tables_with_mode_0600_and_wal(store: RawStore) -> None:
    assert tables(store) == {"records", "sync_state", "oauth_tokens", "people", "schema_version"}
    assert columns(store, "records") == [
        "person", "provider", "resource", "record_id", "day", "payload", "payload_sha256", "fetched_at", "deleted_at"
    ]
    assert columns(store, "sync_state") == ["person", "provider", "resource", "watermark", "detail", "updated_at"]
    assert columns(store, "people") == ["person", "cohort", "timezone", "start_date", "sources", "origin", "added_at"]
    assert columns(store, "oauth_tokens") == [
        "person", "provider", "access_token", "refresh_token", "token_type", "scope", "expires_at", "updated_at"
    ]
    if store.path:  # a file of tokens, private; a server's privacy is its roles'
        assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
        assert rows(store, "PRAGMA journal_mode") == [("wal",)]
    assert rows(store, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
    store.init()  # idempotent
    assert rows(store, "SELECT count(*) FROM schema_version") == [(1,)]


def test_a_newer_schema_is_refused_with_a_clear_error(store: RawStore) -> None:
    with store.connection() as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, 'x')")
    with pytest.raises(RawStoreError, match="schema version 99 is newer than this health-pipeline understands"):
        store.init()


def test_landing_counts_new_unchanged_and_changed_and_rewrites_only_changes(store: RawStore) -> None:
    first = store.land("oura", "daily_activity", [doc("a", "2026-01-01", 10), doc("b", "2026-01-02", 20)])
    assert (first.new, first.changed, first.unchanged, first.deleted) == (2, 0, 0, 0)
    fetched_before = dict(rows(store, "SELECT record_id, fetched_at FROM records"))
    with store.connection() as conn:  # make a rewrite of `a` detectable
        conn.execute("UPDATE records SET fetched_at = 'old' WHERE record_id = 'a'")

    assert first.days == {"2026-01-01", "2026-01-02"}
    again = store.land("oura", "daily_activity", [doc("a", "2026-01-01", 10), doc("b", "2026-01-02", 21)])
    assert (again.new, again.changed, again.unchanged) == (0, 1, 1)
    assert again.days == {"2026-01-02"}  # only the day whose record changed is modelled again
    after = dict(rows(store, "SELECT record_id, fetched_at FROM records"))
    assert after["a"] == "old"  # the unchanged payload was not rewritten
    assert after["b"] >= fetched_before["b"]
    payload, sha = rows(store, "SELECT payload, payload_sha256 FROM records WHERE record_id = 'b'")[0]
    assert payload == '{"id":"b","day":"2026-01-02","steps":21}'
    assert sha == hashlib.sha256(payload.encode()).hexdigest()
    moved = store.land("oura", "daily_activity", [doc("b", "2026-01-05", 21)])
    assert moved.days == {"2026-01-02", "2026-01-05"}  # a record that moved: its old day and its new one


def test_a_landed_window_tombstones_records_no_longer_served_and_revives_returning_ones(store: RawStore) -> None:
    window = (date(2026, 1, 1), date(2026, 1, 2))
    store.land("oura", "sleep", [doc("a", "2026-01-01", 1), doc("b", "2026-01-02", 2), doc("c", "2026-01-03", 3)])
    counts = store.land("oura", "sleep", [doc("a", "2026-01-01", 1)], window=window)
    assert (counts.deleted, counts.days) == (1, {"2026-01-02"})
    deleted = dict(rows(store, "SELECT record_id, deleted_at IS NOT NULL FROM records"))
    assert deleted == {"a": 0, "b": 1, "c": 0}  # c is outside the window: untouched
    assert [r.record_id for r in store.records("oura", "sleep")] == ["a", "c"]
    assert len(store.records("oura", "sleep", include_deleted=True)) == 3

    revived = store.land("oura", "sleep", [doc("a", "2026-01-01", 1), doc("b", "2026-01-02", 2)], window=window)
    assert (revived.changed, revived.unchanged, revived.deleted) == (1, 1, 0)
    assert rows(store, "SELECT count(*) FROM records WHERE deleted_at IS NOT NULL") == [(0,)]


def test_a_crash_while_landing_leaves_the_previous_window_intact(store: RawStore) -> None:
    store.land("oura", "daily_activity", [doc("a", "2026-01-01", 1)], watermark="2026-01-01")

    def failing() -> Iterator[RawRecord]:
        yield doc("a", "2026-01-01", 999)
        yield doc("b", "2026-01-02", 2)
        raise ConnectionError("the provider went away mid-window")

    with pytest.raises(ConnectionError):
        store.land("oura", "daily_activity", failing(), window=(date(2026, 1, 1), date(2026, 1, 2)),
                   watermark="2026-01-02")
    assert rows(store, "SELECT record_id, payload FROM records") == [("a", '{"id":"a","day":"2026-01-01","steps":1}')]
    assert store.sync_state("oura", "daily_activity") == ("2026-01-01", {})


def test_the_same_record_twice_in_one_window_is_an_error_not_a_silent_overwrite(store: RawStore) -> None:
    with pytest.raises(ValueError, match="record 'a' fetched twice"):
        store.land("oura", "daily_activity", [doc("a", "2026-01-01", 1), doc("a", "2026-01-01", 2)])
    assert rows(store, "SELECT count(*) FROM records") == [(0,)]


def test_tombstone_marks_only_live_records(store: RawStore) -> None:
    store.land("hevy", "workouts", [doc("w1", "2026-01-01", 1), doc("w2", "2026-01-01", 2)])
    assert store.tombstone("hevy", "workouts", ["w1", "missing"]) == 1
    assert store.tombstone("hevy", "workouts", ["w1"]) == 0
    assert [r.record_id for r in store.records("hevy", "workouts")] == ["w2"]


def test_day_span_covers_the_live_records_of_the_resources_and_counts_the_undated(store: RawStore) -> None:
    store.land("oura", "heartrate", [doc("a", "2026-01-03", 1), doc("b", "2026-01-09", 2), doc("c", "2026-01-20", 3)])
    store.land("oura", "sleep", [doc("s", "2025-12-30", 1)])
    store.land("oura", "session", [RawRecord("u", None, {"id": "u"})])
    store.tombstone("oura", "heartrate", ["c"])

    assert store.day_span("oura", ["heartrate"]) == (date(2026, 1, 3), date(2026, 1, 9), 0)
    assert store.day_span("oura", ["heartrate", "sleep"]) == (date(2025, 12, 30), date(2026, 1, 9), 0)
    assert store.day_span("oura", ["session"]) == (None, None, 1)
    assert store.day_span("fitbit", ["heart-rate"]) == (None, None, 0)


def test_sync_state_keeps_the_watermark_when_only_detail_changes(store: RawStore) -> None:
    store.land("withings", "measures", [], watermark="1700000000", detail={"offset": 0})
    store.land("withings", "measures", [], detail={"offset": 3})
    assert store.sync_state("withings", "measures") == ("1700000000", {"offset": 3})
    assert store.sync_state("withings", "nothing") is None


def test_tokens_round_trip_and_never_show_in_repr(store: RawStore) -> None:
    expires = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    store.save_token("oura", access_token="tok-123", refresh_token="ref-456", scope="daily", expires_at=expires)
    token = store.token("oura")
    assert token is not None
    assert (token.access_token, token.refresh_token, token.scope, token.expires_at) == ("tok-123", "ref-456", "daily", expires)
    assert "tok-123" not in repr(token) and "ref-456" not in repr(token)
    store.save_token("oura", access_token="tok-2", refresh_token=None)
    assert rows(store, "SELECT access_token, refresh_token FROM oauth_tokens") == [("tok-2", None)]


def test_payloads_are_stored_verbatim_as_compact_json() -> None:
    assert canonical_json({"b": 1, "a": [1, None, "é"]}) == '{"b":1,"a":[1,null,"é"]}'


# -- people --------------------------------------------------------------------------------------

_SCHEMA_1 = SCHEMA_1 + """
INSERT INTO records VALUES ('oura', 'daily_activity', 'a1', '2025-01-02', '{"steps":5}', 'x', '2025-01-03T00:00:00Z', NULL);
INSERT INTO records VALUES ('hevy', 'workouts', 'w1', '2025-01-02', '{"id":"w1"}', 'y', '2025-01-03T00:00:00Z',
                            '2025-01-04T00:00:00Z');
INSERT INTO sync_state VALUES ('hevy', 'workouts', '2025-01-03T00:00:00Z', '{"pages":2}', '2025-01-03T00:00:00Z');
INSERT INTO oauth_tokens VALUES ('oura', 'access-1', 'refresh-1', 'Bearer', 'daily', '2025-01-04T00:00:00+00:00',
                                 '2025-01-03T00:00:00Z');
"""


def test_two_people_share_a_file_and_never_see_each_others_rows(store: RawStore) -> None:
    alice, bob = store.for_person("alice"), store.for_person("bob")
    alice.land("oura", "daily_activity", [doc("a1", "2025-01-02", 100)], window=(date(2025, 1, 2), date(2025, 1, 2)))
    # bob's window of the same days is empty: it must not tombstone alice's record
    counts = bob.land("oura", "daily_activity", [], window=(date(2025, 1, 2), date(2025, 1, 2)))
    assert counts.deleted == 0
    bob.land("oura", "daily_activity", [doc("a1", "2025-01-02", 7)], watermark="w-bob")
    alice.save_token("oura", access_token="alice-token", refresh_token=None)
    assert [json_steps(r.payload) for r in alice.records("oura", "daily_activity")] == [100]
    assert [json_steps(r.payload) for r in bob.records("oura", "daily_activity")] == [7]
    assert bob.token("oura") is None and alice.token("oura").access_token == "alice-token"
    assert alice.sync_state("oura", "daily_activity") is None
    assert bob.sync_state("oura", "daily_activity") == ("w-bob", {})
    assert rows(store, "SELECT person, record_id FROM records ORDER BY person") == [("alice", "a1"), ("bob", "a1")]
    assert store.people_with_data() == {"alice", "bob"}


def json_steps(payload: str) -> int:
    return int(payload.split('"steps":')[1].rstrip("}"))


def test_a_store_from_before_people_migrates_in_place_to_the_person_it_is_opened_for(tmp_path: Path) -> None:
    path = tmp_path / "raw.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(_SCHEMA_1)
    before = rows(RawStore(path), "SELECT provider, resource, record_id, day, payload, payload_sha256, fetched_at, "
                                  "deleted_at FROM records ORDER BY record_id")
    store = RawStore(path, "jane")
    store.init()
    assert rows(store, "SELECT max(version) FROM schema_version") == [(SCHEMA_VERSION,)]
    assert rows(store, "SELECT provider, resource, record_id, day, payload, payload_sha256, fetched_at, deleted_at "
                       "FROM records ORDER BY record_id") == before  # nothing lost or rewritten
    assert rows(store, "SELECT DISTINCT person FROM records") == [("jane",)]
    assert store.sync_state("hevy", "workouts") == ("2025-01-03T00:00:00Z", {"pages": 2})
    token = store.token("oura")
    assert (token.access_token, token.refresh_token, token.scope) == ("access-1", "refresh-1", "daily")
    assert [(p.person, p.cohort, p.origin) for p in store.people()] == [("jane", "jane", "migrated")]
    tables = {name for (name,) in rows(store, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"records", "sync_state", "oauth_tokens", "people", "schema_version"}
    RawStore(path, "someone-else").init()  # opening it again migrates nothing twice
    assert rows(store, "SELECT DISTINCT person FROM records") == [("jane",)]


def test_erasing_a_person_removes_every_row_of_theirs_and_their_text_from_the_file(store: RawStore) -> None:
    alice, bob = store.for_person("alice"), store.for_person("bob")
    for person in (alice, bob):
        person.save_person(person.person, timezone="Asia/Tokyo")
        person.land("oura", "sleep", [RawRecord("s1", "2025-01-02", {"secret": f"diary-of-{person.person}"})],
                    watermark="w")
        person.save_token("oura", access_token=f"token-of-{person.person}", refresh_token="r")
    erased = alice.erase_person()
    assert (erased.records, erased.sync_states, erased.tokens, erased.person) == (1, 1, 1, True)
    assert store.people_with_data() == {"bob"}
    assert [p.person for p in store.people()] == ["bob"]
    assert rows(store, "SELECT count(*) FROM records WHERE payload LIKE '%diary-of-alice%'") == [(0,)]
    assert rows(store, "SELECT count(*) FROM oauth_tokens WHERE access_token = 'token-of-alice'") == [(0,)]
    if store.path:  # and nothing of theirs is left in the file's freed pages
        text = store.path.read_bytes() + (store.path.with_name(store.path.name + "-wal").read_bytes()
                                          if store.path.with_name(store.path.name + "-wal").exists() else b"")
        assert b"diary-of-alice" not in text and b"token-of-alice" not in text
        assert b"diary-of-bob" in text


def test_a_person_id_must_be_label_and_key_safe(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a person id"):
        RawStore(tmp_path / "raw.sqlite", "jane doe")
    with pytest.raises(ValueError, match="not a person id"):
        RawStore(tmp_path / "raw.sqlite", "a|b")


# -- what every backend answers alike ------------------------------------------------------------


def test_reads_answer_the_same_on_both_backends(store: RawStore, tmp_path: Path) -> None:
    """Follow-ups, orphans, JSON paths, spans, summaries and the fingerprint: the same answers, byte for
    byte where they are text, whichever backend holds the rows."""
    reference = RawStore(tmp_path / "reference.sqlite")
    for raw in (store, reference):
        raw.land("whoop", "sleep", [
            RawRecord("s1", "2026-01-01", {"id": "s1", "score_state": "PENDING_SCORE", "score": {"state": "x"}}),
            RawRecord("s2", "2026-01-02", {"id": "s2", "score_state": "SCORED", "score": {"state": "y"}}),
            RawRecord("s3", "2026-01-03", {"id": "s3", "score_state": 5, "score": {"state": "x"}}),
            RawRecord("s4", "2026-01-04", {"id": "s4", "score_state": "PENDING_SCORE"})])
        raw.land("whoop", "sleep_detail", [RawRecord("s2", "2026-01-02", {"id": "s2"}),
                                            RawRecord("gone", "2025-12-30", {"id": "gone"})])
        raw.tombstone("whoop", "sleep", ["s4"])
        raw.bury("whoop", "sleep", [("s9", {"event": "sleep.deleted", "id": "s9"}, "2026-01-05T00:00:00Z")])
    first, last = date(2026, 1, 1), date(2026, 1, 31)
    for raw in (store, reference):
        assert raw.days_where("whoop", "sleep", "$.score_state", ["PENDING_SCORE", "5"], first, last) == [date(2026, 1, 1)]
        assert raw.days_where("whoop", "sleep", "$.score.state", ["x"], first, last) == [date(2026, 1, 1), date(2026, 1, 3)]
        assert raw.days_where("whoop", "sleep", "$.score.state", [], first, last) == []
        assert [r.record_id for r in raw.due_follow_ups("whoop", "sleep", "sleep_detail")] == ["s3", "s1"]
        assert [r.record_id for r in raw.due_follow_ups("whoop", "sleep", "sleep_detail", limit=1)] == ["s3"]
        assert raw.orphans("whoop", "sleep", "sleep_detail") == ["gone"]
        assert raw.day_span("whoop", ["sleep", "sleep_detail"]) == (date(2025, 12, 30), date(2026, 1, 3), 0)
        assert raw.first_day(["whoop"]) == date(2025, 12, 30)
        assert [(r["resource"], r["live"], r["deleted"]) for r in raw.resource_summary()] == [
            ("sleep", 3, 2), ("sleep_detail", 2, 0)]
    assert store.fingerprint("whoop", ["sleep", "sleep_detail"]) == reference.fingerprint("whoop", ["sleep", "sleep_detail"])
    strip = lambda found: [(r.record_id, r.day, r.payload, r.payload_sha256, r.deleted_at is None) for r in found]  # noqa: E731
    assert strip(store.records("whoop", "sleep", include_deleted=True)) == \
        strip(reference.records("whoop", "sleep", include_deleted=True))


def test_records_sort_byte_by_byte_on_both_backends(store: RawStore) -> None:
    # a server's default collation (en_US) would put "a-2" between "A1" and "b"; the store sorts as SQLite does
    store.land("hevy", "workouts", [doc(rid, "2026-01-01", 1) for rid in ("b", "a-2", "A1", "_z", "a10")])
    assert [r.record_id for r in store.records("hevy", "workouts")] == ["A1", "_z", "a-2", "a10", "b"]


def test_a_person_and_the_home_they_adopt_are_alike_on_both_backends(store: RawStore) -> None:
    old = store.for_person("old-name")
    old.land("oura", "sleep", [doc("s1", "2026-01-01", 1)], watermark="w")
    old.save_token("oura", access_token="t", refresh_token=None)
    old.save_person("old-name", origin="migrated")
    new = store.for_person("new-name")
    assert new.adopt_home(listed=["someone"]) is None  # people listed in the config: nothing renamed
    assert new.adopt_home() == "old-name"
    assert store.people_with_data() == {"new-name"}
    assert [(p.person, p.cohort, p.origin) for p in store.people()] == [("new-name", "new-name", "migrated")]
    assert new.sync_state("oura", "sleep") == ("w", {})
    assert new.token("oura").access_token == "t"
    saved = new.save_person("c1", timezone="Europe/Berlin", start_date=date(2025, 1, 1), sources=["oura", "hevy"])
    assert (saved.cohort, saved.timezone, saved.start_date, saved.sources) == ("c1", "Europe/Berlin", "2025-01-01",
                                                                               ("hevy", "oura"))


def test_no_store_yet_is_read_as_empty_and_not_created(tmp_path: Path) -> None:
    store = RawStore(tmp_path / "none.sqlite")
    assert store.first_day(["oura"]) is None and not store.exists()
    assert not (tmp_path / "none.sqlite").exists()


@pytest.mark.slow
def test_no_store_yet_on_a_server_is_read_as_empty_and_not_created(raw_postgres_url: str) -> None:
    store = RawStore(raw_postgres_url)
    assert store.first_day(["oura"]) is None and not store.exists()
    store.init()
    assert store.exists() and store.first_day(["oura"]) is None


# -- several processes, one store --------------------------------------------------------------------

SPAWN = multiprocessing.get_context("spawn")


def _land_in_child(location: str, person: str, barrier: "multiprocessing.synchronize.Barrier",
                   out: "multiprocessing.Queue[tuple[str, int, int] | str]") -> None:
    def slowly() -> Iterator[RawRecord]:  # a window fetched while the other process lands its own
        for i in range(100):
            time.sleep(0.003)
            yield doc(f"r{i}", "2026-01-01", i)

    try:
        store = RawStore(location, person)
        barrier.wait(timeout=60)
        counts = store.land("oura", "heartrate", slowly(), window=(date(2026, 1, 1), date(2026, 1, 1)),
                            watermark=f"w-{person}")
        out.put((person, counts.new, counts.unchanged))
    except Exception as err:  # noqa: BLE001 - reported to the test, which fails with it
        out.put(f"{person}: {type(err).__name__}: {err}")


def _land_at_once(location: str, people: list[str]) -> list[tuple[str, int, int] | str]:
    barrier, out = SPAWN.Barrier(len(people)), SPAWN.Queue()
    children = [SPAWN.Process(target=_land_in_child, args=(location, person, barrier, out)) for person in people]
    for child in children:
        child.start()
    results = [out.get(timeout=120) for _ in children]
    for child in children:
        child.join(timeout=60)
    return sorted(results, key=str)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def test_two_processes_landing_different_peoples_windows_at_once_both_commit(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    location = str(tmp_path / "raw.sqlite") if backend == "sqlite" else request.getfixturevalue("raw_postgres_url")
    RawStore(location).init()
    assert _land_at_once(location, ["alice", "bob"]) == [("alice", 100, 0), ("bob", 100, 0)]
    store = RawStore(location)
    assert rows(store, "SELECT person, count(*) FROM records GROUP BY person ORDER BY person") == [
        ("alice", 100), ("bob", 100)]
    assert [store.for_person(p).sync_state("oura", "heartrate") for p in ("alice", "bob")] == [
        ("w-alice", {}), ("w-bob", {})]


@pytest.mark.slow
def test_two_processes_landing_the_same_window_queue_and_neither_loses_nor_duplicates(raw_postgres_url: str) -> None:
    """The same person's window twice at once: the second waits for the first (its advisory lock), then
    finds every record unchanged; no duplicate key, nothing counted twice."""
    RawStore(raw_postgres_url).init()
    results = _land_at_once(raw_postgres_url, ["carol", "carol"])
    assert results == [("carol", 0, 100), ("carol", 100, 0)]
    assert rows(RawStore(raw_postgres_url), "SELECT count(*) FROM records") == [(100,)]
