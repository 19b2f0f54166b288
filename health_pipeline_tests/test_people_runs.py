"""A household of three and a study of twenty in one deployment: one run syncs everyone, each person's
rows and series are exactly their own world's, no token serves another person, erasure leaves nothing."""

import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from health_pipeline.cli import main
from health_pipeline.config import Config
from health_pipeline.dev.demo import authorize_with_sandbox
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.erasure import erase_person
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.providers.windows import local_midnight
from health_pipeline.registry import load_config
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sources.oura import client as oura
from health_pipeline.sources.oura.sandbox import truth
from health_pipeline.storage.victoriametrics import VictoriaMetrics
from health_pipeline.sync import downstream_keys, materialize_range, raw_asset_keys
from health_pipeline_tests.conftest import TIMEZONE, WINDOW
from health_pipeline_tests.export_oracle import assert_exact, held

START, END = WINDOW[1] - timedelta(days=6), WINDOW[1]
HOUSEHOLD = ("alice", "bob", "carol")
STUDY = END - timedelta(days=2)  # a study's three days: twenty people, two runs and an erasure


def write_config(path: Path, sandbox: Sandbox, vm_url: str, people: str = "", app: str = "") -> Config:
    url = sandbox.url("oura")
    path.write_text(f"""
[app]
timezone = "{TIMEZONE}"
{app}
[oura]
enabled = true
start_date = "{START - timedelta(days=30)}"
base_url = "{url}"
authorize_url = "{url}/oauth/authorize"
token_url = "{url}/oauth/token"
client_id = "sandbox"
client_secret = "sandbox-secret"

[victoriametrics]
enabled = true
url = "{vm_url}"
{people}""")
    path.chmod(0o600)
    return load_config(path)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


def authorise(config: Config, sandbox: Sandbox, people: tuple[str, ...]) -> None:
    for person in people:
        authorize_with_sandbox(OAuthTokens(config.oura, config.raw_store().for_person(person), oura.OAUTH),
                               login_hint=person)


def expected_activity(sandbox: Sandbox, person: str, start: date = START, end: date = END) -> list[tuple]:
    return [("oura", date.fromisoformat(d["day"]), d["steps"], float(d["total_calories"]))
            for d in truth.oura_daily_activity(sandbox.world_for(person), start, end)]


def expected_heart_rate(sandbox: Sandbox, person: str) -> list[tuple]:
    world = sandbox.world_for(person)
    zone = ZoneInfo(world.timezone)
    rows = truth.oura_heartrate(world, local_midnight(START, zone), local_midnight(END + timedelta(days=1), zone))
    return [(datetime.fromisoformat(r["timestamp"]).astimezone(timezone.utc), float(r["bpm"])) for r in rows]


def tidy(config: Config, sql: str, *params: object) -> list[tuple]:
    with duckdb.connect(str(config.app.duckdb), read_only=True) as conn:
        return conn.execute(sql, list(params)).fetchall()


def test_a_household_of_three_syncs_in_one_run_each_from_their_own_world(
        tmp_path: Path, sandbox: Sandbox, victoriametrics: LocalVictoriaMetrics, instance: dg.DagsterInstance) -> None:
    zones = {p: sandbox.world_for(p).timezone for p in HOUSEHOLD}
    assert len(set(zones.values())) > 1  # their own calendars
    people = "".join(f'\n[people.{p}]\ntimezone = "{zones[p]}"\n' for p in HOUSEHOLD)
    config = write_config(tmp_path / "health-pipeline.toml", sandbox, victoriametrics.url, people)
    authorise(config, sandbox, HOUSEHOLD)

    result = materialize_range(config, instance, raw_asset_keys(config, None) + downstream_keys(config), START, END)
    assert result.metadata["oura_daily_activity"]["people"] == "alice, bob, carol"
    for person in HOUSEHOLD:  # each person's rows are exactly their world's, on their calendar
        assert tidy(config, "SELECT provider, day, steps, total_kcal FROM daily_activity WHERE person = ? ORDER BY day",
                    person) == expected_activity(sandbox, person)
        assert tidy(config, "SELECT ts, bpm FROM heart_rate WHERE person = ? ORDER BY ts",
                    person) == expected_heart_rate(sandbox, person)
    assert expected_activity(sandbox, "alice") != expected_activity(sandbox, "bob")
    assert {p for (p,) in tidy(config, "SELECT DISTINCT person FROM daily_summary")} == set(HOUSEHOLD)

    # nothing crossed: every stored token is its person's, every request was served from its person's world
    for person in HOUSEHOLD:
        token = config.raw_store().for_person(person).token("oura")
        assert sandbox.person_of_token(token.access_token) == person
        assert sandbox.person_of_token(token.refresh_token) == person
    served = Counter(entry.person for entry in sandbox.log.entries("oura") if "/v2/usercollection/" in entry.path)
    assert set(served) == set(HOUSEHOLD) and len(set(served.values())) == 1  # the same requests for each
    assert sandbox.quota_refusals() == {}

    # VictoriaMetrics: each person's series under their own `user` label, exactly the tidy rows
    samples = assert_exact(config)
    assert {key.split("user=")[1].split(",")[0] for key in samples} == set(HOUSEHOLD)
    steps = {p: held(config, f'health_steps{{user="{p}"}}') for p in HOUSEHOLD}
    for person in HOUSEHOLD:
        [(key, values)] = steps[person].items()
        zone = ZoneInfo(zones[person])
        assert values == {int(local_midnight(d, zone).timestamp() * 1000): float(s)
                          for _, d, s, _ in expected_activity(sandbox, person)}

    # one person's revoked token fails only their part; the others' data is landed and modelled
    sandbox.app("oura", "bob").oauth.revoke_all()
    again = materialize_range(config, instance, raw_asset_keys(config, None) + downstream_keys(config), END, END)
    failed = again.metadata["oura_daily_activity"]["people_failed"]
    assert list(failed) == ["bob"] and "auth" in failed["bob"]
    assert again.metadata["oura_daily_activity"]["people"] == "alice, carol"
    table = str(again.metadata["oura_daily_activity"]["per_person"]).splitlines()  # per person, for the UI
    assert table[0].startswith("| person | ") and table[2].startswith("| alice | ") and table[2].endswith(" | ok |")
    assert table[3].startswith("| bob | ") and "| failed: " in table[3]


def test_a_study_of_twenty_from_a_csv_syncs_and_one_participant_is_erased_from_every_store(
        tmp_path: Path, sandbox: Sandbox, victoriametrics: LocalVictoriaMetrics, instance: dg.DagsterInstance,
        capsys: pytest.CaptureFixture[str]) -> None:
    participants = tuple(f"p{i:02d}" for i in range(1, 21))
    config = write_config(tmp_path / "health-pipeline.toml", sandbox, victoriametrics.url, app="cohort_size = 8")
    (tmp_path / "study.csv").write_text("id,timezone\n" + "".join(
        f"{p},{sandbox.world_for(p).timezone}\n" for p in participants))
    assert main(["--config", str(config.path), "people", "add", "--csv", str(tmp_path / "study.csv")]) == 0
    assert capsys.readouterr().out == f"20 people added from {tmp_path / 'study.csv'} in 3 cohorts\n"
    authorise(config, sandbox, participants)

    result = materialize_range(config, instance, raw_asset_keys(config, None) + downstream_keys(config), STUDY, END,
                               tags={"health/cohort": "c001"})  # one cohort's week in one run
    assert result.metadata["oura_daily_activity"]["people"] == ", ".join(participants[:8])
    assert {p for (p,) in tidy(config, "SELECT DISTINCT person FROM daily_activity")} == set(participants[:8])
    result = materialize_range(config, instance, raw_asset_keys(config, None) + downstream_keys(config), STUDY, END)
    assert {p for (p,) in tidy(config, "SELECT DISTINCT person FROM daily_activity")} == set(participants)
    for person in participants:
        assert tidy(config, "SELECT provider, day, steps, total_kcal FROM daily_activity WHERE person = ? ORDER BY day",
                    person) == expected_activity(sandbox, person, STUDY, END)
    assert_exact(config)
    assert sandbox.quota_refusals() == {}

    # erasure: p07 is gone from the raw store, the tidy store, VictoriaMetrics and the runs that were only theirs
    own = materialize_range(config, instance, raw_asset_keys(config, None), END, END, tags={"health/people": "p07"})
    assert own.metadata["oura_daily_activity"]["records_unchanged"] > 0
    runs_before = len(instance.get_runs())
    erased = erase_person(config, "p07", instance)
    assert erased.raw.records > 0 and erased.raw.tokens == 1 and erased.series > 0 and erased.runs == 1
    assert len(instance.get_runs()) == runs_before - 1
    with sqlite3.connect(config.app.raw_db) as conn:
        for table in ("records", "sync_state", "oauth_tokens", "people"):
            assert conn.execute(f"SELECT count(*) FROM {table} WHERE person = 'p07'").fetchone() == (0,)
    with duckdb.connect(str(config.app.duckdb), read_only=True) as conn:
        tables = [t for (t,) in conn.execute("SELECT DISTINCT table_name FROM duckdb_columns() "
                                             "WHERE column_name = 'person'").fetchall()]
        assert len(tables) > 12
        for table in tables:
            assert conn.execute(f"SELECT count(*) FROM {table} WHERE person = 'p07'").fetchone() == (0,), table
    vm = VictoriaMetrics(config.victoriametrics)
    try:
        assert vm.series('{user="p07"}') == []
    finally:
        vm.close()
    assert b"p07" not in config.app.raw_db.read_bytes()
    assert_exact(config)  # everyone else's series are as they were
