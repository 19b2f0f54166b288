"""The raw store on a PostgreSQL server (`[app] raw_db = "postgresql+psycopg2://…"`): the setting, its
secrecy, and an Oura sync through Dagster that lands there and models exactly what it does from SQLite."""

from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from health_pipeline.cli import main
from health_pipeline.config import parse_config
from health_pipeline.dev.demo import authorize_with_sandbox
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.registry import REGISTRY
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.settings import ConfigError, DatabaseUrl
from health_pipeline.sources.oura import client as oura
from health_pipeline.storage.raw_store import RawStore, RawStoreError
from health_pipeline.sync import downstream_keys, materialize_range, raw_asset_keys
from health_pipeline_tests.conftest import RAW_DB_PASSWORD, ConfigFactory
from health_pipeline_tests.test_end_to_end import END, START, expected_daily_activity, expected_heart_rate, tidy_rows

URL = "postgresql+psycopg2://health:hunter2@db.example:5432/raw"


def app(values: dict[str, object], environ: dict[str, str] | None = None, tmp: Path | None = None):  # type: ignore[no-untyped-def]
    return parse_config({"app": values}, (tmp / "c.toml") if tmp else None, REGISTRY, environ or {}).app


def test_raw_db_takes_a_postgresql_url_and_never_shows_its_password(tmp_path: Path) -> None:
    raw_db = app({"raw_db": URL}, tmp=tmp_path).raw_db
    assert isinstance(raw_db, DatabaseUrl) and raw_db.reveal() == URL
    assert str(raw_db) == "postgresql+psycopg2://health:***@db.example:5432/raw"
    assert "hunter2" not in repr(raw_db) and "hunter2" not in f"{raw_db}"
    assert str(RawStore(raw_db).location) == str(raw_db) and str(RawStore(URL, "jo").for_person("al").location) == str(raw_db)
    assert app({"raw_db": "postgresql://db.example/raw"}, tmp=tmp_path).raw_db.reveal() == "postgresql://db.example/raw"
    assert app({"raw_db": "stores/raw.sqlite"}, tmp=tmp_path).raw_db == tmp_path / "stores/raw.sqlite"  # a file, as before


def test_raw_db_comes_from_the_environment_as_a_secret_and_wins_over_the_file(tmp_path: Path) -> None:
    raw_db = app({"raw_db": "data/raw.sqlite"}, {"HEALTH_PIPELINE_APP_RAW_DB": URL}, tmp_path).raw_db
    assert raw_db == DatabaseUrl(URL)


@pytest.mark.parametrize("value, problem", [
    ("mysql://u:hunter2@db/raw", "must be a SQLite file's path or postgresql+psycopg2://"),
    ("postgresql://u:hunter2@db.example", "(a host and a database)"),
    ("postgresql://u:hunter2@db.example:notaport/raw", "is not a URL"),
])
def test_a_raw_db_url_that_cannot_be_a_raw_store_is_refused_without_its_password(
        tmp_path: Path, value: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        app({"raw_db": value}, tmp=tmp_path)
    assert problem in str(caught.value) and "[app] raw_db" in str(caught.value)
    assert "hunter2" not in str(caught.value)


@pytest.mark.slow
def test_an_unreachable_server_is_one_line_without_the_password(postgres_server: object) -> None:
    store = RawStore("postgresql://health:hunter2@127.0.0.1:1/raw")
    with pytest.raises(RawStoreError) as caught:
        store.records("oura", "sleep")
    text = str(caught.value)
    assert text.startswith("postgresql://health:***@127.0.0.1:1/raw: cannot reach the raw store")
    assert "hunter2" not in text and "\n" not in text


@pytest.mark.slow
def test_an_oura_sync_through_dagster_into_postgresql_models_what_it_does_from_sqlite(
        make_config: ConfigFactory, sandbox: Sandbox, raw_postgres_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HEALTH_PIPELINE_APP_RAW_DB", raw_postgres_url)  # as the Helm values set it, from a Secret
    config = make_config()
    assert isinstance(config.app.raw_db, DatabaseUrl)
    store = config.raw_store()
    store.init()
    authorize_with_sandbox(OAuthTokens(config.oura, store, oura.OAUTH))
    with dg.instance_for_test() as instance:
        result = materialize_range(config, instance, raw_asset_keys(config, None) + downstream_keys(config), START, END)
        assert result.metadata["oura_daily_activity"]["records_new"] == len(expected_daily_activity(sandbox))
        logs = "\n".join(str(e.message) for e in instance.all_logs(result.run_id))

    # the tidy tables equal the sandbox's ground truth, row for row: what the SQLite end-to-end test asserts
    assert tidy_rows(config, "daily_activity") == expected_daily_activity(sandbox)
    assert tidy_rows(config, "heart_rate") == expected_heart_rate(sandbox)
    # everything landed on the server, nothing in a file beside the config
    assert not (config.base_dir / "data" / "raw.sqlite").exists()
    assert len(store.records("oura", "daily_activity", start_day=START, end_day=END)) == len(expected_daily_activity(sandbox))
    assert store.token("oura") is not None

    assert main(["--config", str(config.path), "status"]) == 0
    shown = capsys.readouterr().out
    assert "raw store: postgresql+psycopg2://dagster:***@127.0.0.1:" in shown and "daily_activity" in shown
    assert RAW_DB_PASSWORD not in shown + logs
