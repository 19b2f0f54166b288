"""People: who a deployment syncs (config tables, `people add` and CSVs), their settings, and erasure."""

from datetime import date
from pathlib import Path

import duckdb
import pytest

from health_pipeline.cli import main
from health_pipeline.people import everyone, select
from health_pipeline.registry import load_config
from health_pipeline.settings import ConfigError
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.storage.raw_store import RawRecord, RawStore
from health_pipeline.tidy.models import create_tables


def write(tmp_path: Path, text: str = "") -> Path:
    path = tmp_path / "health-pipeline.toml"
    path.write_text('[app]\ntimezone = "Europe/Berlin"\n' + text)
    path.chmod(0o600)
    return path


def run(capsys: pytest.CaptureFixture[str], path: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(path), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_home_without_people_is_its_one_person_who_stays_once_others_are_added_if_they_own_data(
        tmp_path: Path) -> None:
    config = load_config(write(tmp_path))
    store = RawStore(config.app.raw_db)
    assert [(p.id, p.cohort, p.timezone, p.origin) for p in everyone(config, store)] == [
        ("me", "me", "Europe/Berlin", "default")]
    store.for_person("alice").save_person("alice")
    assert [p.id for p in everyone(config, store)] == ["alice"]  # "me" owned nothing
    store.land("oura", "sleep", [RawRecord("s", "2025-01-01", {"x": 1})])
    assert [p.id for p in everyone(config, store)] == ["alice", "me"]


def test_config_tables_list_a_household_with_their_zones_start_dates_and_sources(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[oura]\nenabled = true\nclient_id = "c"\nclient_secret = "s"\n'
                                         '[people.alice]\ntimezone = "Asia/Tokyo"\nstart_date = "2025-03-01"\n'
                                         'sources = ["oura"]\n[people.bob]\ncohort = "family"\n'))
    people = everyone(config, RawStore(config.app.raw_db))
    assert [(p.id, p.cohort, p.timezone, p.start_date, p.sources, p.origin) for p in people] == [
        ("alice", "alice", "Asia/Tokyo", date(2025, 3, 1), ("oura",), "config"),
        ("bob", "family", "Europe/Berlin", None, None, "config")]
    assert people[0].uses("oura") and not people[0].uses("withings") and people[1].uses("withings")
    assert people[0].app(config.app).timezone == "Asia/Tokyo" and people[0].app(config.app).user == "alice"
    assert [p.id for p in select(people, cohorts=["family"])] == ["bob"]
    with pytest.raises(ConfigError, match=r"unknown person 'carol' \(known: alice, bob;"):
        select(people, ["carol"])


def test_people_add_list_and_a_study_s_csv_fill_cohorts_of_the_configured_size(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path)
    path.write_text('[app]\ntimezone = "Europe/Berlin"\ncohort_size = 2\n')
    (tmp_path / "study.csv").write_text("id,timezone,start_date,sources,cohort\np01,America/New_York,2025-01-02,,\n"
                                        "p02,,,,\np03,,,oura;withings,\np04,,,,pilot\n")
    assert run(capsys, path, "people", "add", "--csv", str(tmp_path / "study.csv")) == (
        0, f"4 people added from {tmp_path / 'study.csv'} in 3 cohorts\n", "")
    code, out, _ = run(capsys, path, "people", "list")
    assert code == 0 and [line.split()[:4] for line in out.splitlines()[1:]] == [
        ["p01", "c001", "America/New_York", "cli"], ["p02", "c001", "Europe/Berlin", "cli"],
        ["p03", "c002", "Europe/Berlin", "cli"], ["p04", "pilot", "Europe/Berlin", "cli"]]
    config = load_config(path)
    stored = {p.id: p for p in everyone(config, RawStore(config.app.raw_db))}
    assert stored["p01"].start_date == date(2025, 1, 2) and stored["p03"].sources == ("oura", "withings")
    assert run(capsys, path, "people", "add", "p05") == (
        0, "p05: added (cohort c002, time zone Europe/Berlin); authorise their sources with "
           "`health-pipeline auth SOURCE --person p05`\n", "")


@pytest.mark.parametrize("csv, problem", [
    ("name\nx\n", "the first line must name the columns, at least `id`"),
    ("id,age\nx,3\n", "unknown column 'age'"),
    ("id,start_date\nx,yesterday\n", ":2: start_date 'yesterday' is not a date"),
    ("id\nx\nx\n", ":3: 'x' is listed twice"),
    ("id\nx y\n", "'x y' is not a person id"),
    ("id,sources\nx,myspace\n", "x: unknown source 'myspace'"),
])
def test_a_bad_csv_adds_nobody_and_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], csv: str,
                                                  problem: str) -> None:
    path = write(tmp_path)
    (tmp_path / "p.csv").write_text(csv)
    code, out, err = run(capsys, path, "people", "add", "--csv", str(tmp_path / "p.csv"))
    assert (code, out) == (2, "") and problem in err and err.count("\n") == 1
    config = load_config(path)
    assert [p.id for p in everyone(config, RawStore(config.app.raw_db))] == ["me"]


def test_a_person_the_config_lists_is_changed_there_not_from_the_command_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "[people.alice]\n")
    code, _, err = run(capsys, path, "people", "add", "alice")
    assert code == 2 and "'alice' is listed in the config file ([people.alice]): change them there" in err
    code, _, err = run(capsys, path, "people", "remove", "alice", "--yes")
    assert code == 2 and "delete that table first" in err


def test_removing_a_person_erases_their_raw_and_tidy_rows_and_nobody_else_s(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    path = write(tmp_path)
    config = load_config(path)
    for person in ("alice", "bob"):
        store = RawStore(config.app.raw_db, person)
        store.save_person(person)
        store.land("oura", "daily_activity", [RawRecord("d1", "2025-01-01", {"steps": 1})], watermark="w")
        store.save_token("oura", access_token=f"tok-{person}", refresh_token=None)
    with TidyStore(config.app.duckdb).connect() as conn:
        create_tables(conn)
        conn.execute("INSERT INTO daily_activity (person, provider, day, steps) VALUES "
                     "('alice', 'oura', DATE '2025-01-01', 1), ('bob', 'oura', DATE '2025-01-01', 2)")
        conn.execute("INSERT INTO daily_summary (person, day, steps) VALUES ('alice', DATE '2025-01-01', 1), "
                     "('bob', DATE '2025-01-01', 2)")
    code, out, err = run(capsys, path, "people", "remove", "alice", "--yes")
    assert code == 0 and "error:" not in err
    assert out.splitlines() == [
        "alice: erased",
        "  raw store: 1 records, 1 sync states, 1 tokens, their entry in people",
        "  tidy store: 2 rows (daily_activity 1, daily_summary 1)",
        "  VictoriaMetrics: not enabled in the config (no series deleted there)",
        "  Dagster: 0 runs that synced only them",
    ]
    assert RawStore(config.app.raw_db).people_with_data() == {"bob"}
    with duckdb.connect(str(config.app.duckdb), read_only=True) as conn:
        assert conn.execute("SELECT person, steps FROM daily_activity").fetchall() == [("bob", 2)]
        assert conn.execute("SELECT person FROM daily_summary").fetchall() == [("bob",)]
    assert b"tok-alice" not in config.app.raw_db.read_bytes()
    code, _, err = run(capsys, path, "people", "remove", "alice", "--yes")
    assert code == 2 and "unknown person 'alice'" in err


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def error(self, line: str) -> None:
        self.lines.append(line)


class _Context:
    def __init__(self) -> None:
        self.log = _Log()


def _people(*ids: str) -> list:
    from health_pipeline.people import Person
    return [Person(i, i, "UTC", None, None, "cli") for i in ids]


def test_one_person_s_failure_fails_only_their_part_unless_it_is_everyone_s_or_retryable() -> None:
    import dagster as dg

    from health_pipeline.pipeline.people_runs import per_person

    def work(person):  # type: ignore[no-untyped-def]
        if person.id == "bob":
            raise dg.Failure(description="the refresh token was refused", allow_retries=False)
        return {"requests": 2, "records_new": 5 if person.id == "alice" else 1, "window": "2025-01-01..2025-01-02"}

    context = _Context()
    found = per_person(context, _people("alice", "bob", "carol"), work)
    assert {k: v for k, v in found.items() if k not in ("people_failed", "per_person")} == {
        "requests": 4, "records_new": 6, "window": "2025-01-01..2025-01-02", "people": "alice, carol"}
    assert found["people_failed"].value == {"bob": "the refresh token was refused"}
    assert context.log.lines == ["bob: the refresh token was refused"]
    # one person: their metadata as it always was, their failure the run's
    assert per_person(_Context(), _people("alice"), work) == {"requests": 2, "records_new": 5,
                                                              "window": "2025-01-01..2025-01-02"}
    with pytest.raises(dg.Failure, match="refresh token was refused"):
        per_person(_Context(), _people("bob"), work)

    def down(person):  # type: ignore[no-untyped-def]
        if person.id == "bob":
            raise dg.Failure(description="the server is down", allow_retries=True)
        return {"requests": 1}

    with pytest.raises(dg.Failure, match=r"1 of 2 people done; retried for bob: the server is down") as raised:
        per_person(_Context(), _people("alice", "bob"), down)
    assert raised.value.allow_retries


def test_the_run_following_a_raw_run_models_the_same_people() -> None:
    from health_pipeline.pipeline.follow import whose

    assert whose({"health/people": "alice,bob", "dagster/partition": "2025-01-01"}) == {"health/people": "alice,bob"}
    assert whose({"health/cohort": "c002", "health/provider": "oura"}) == {"health/cohort": "c002"}
    assert whose({"health/provider": "oura"}) == {}
