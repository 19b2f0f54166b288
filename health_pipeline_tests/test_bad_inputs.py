"""Ten bad inputs and faults a new user and a flaky network produce: each is a clear one-line error
(exit 2 for bad configuration or arguments, 1 for a failed run) or is survived, and nothing
already landed is lost."""

import ctypes
import hashlib
import os
import stat
import subprocess
import sys
from collections import deque
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import pytest

from health_pipeline.cli import main
from health_pipeline.registry import TABLES, load_config
from health_pipeline.settings import system_timezone
from health_pipeline.config import Config
from health_pipeline.dev.demo import authorize_with_sandbox
from health_pipeline.export.exporter import ExportSettings, export
from health_pipeline.export.metrics import metrics_for
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.sources.fitbit import client as google_health
from health_pipeline.sources.oura import client as oura
from health_pipeline.providers.errors import ProviderUnavailable
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.sandbox.faults import FaultPlan
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.storage.raw_store import RawRecord, RawStore
from health_pipeline.storage.victoriametrics import VictoriaMetrics
from health_pipeline.tidy.models import create_tables
from health_pipeline_tests.conftest import TODAY, ConfigFactory
from health_pipeline_tests.export_oracle import assert_exact, held
from health_pipeline_tests.tidy_setup import all_providers_config, run_range

TOKEN_PATHS = {"oura": "/oauth/token", "google-health": "/token"}


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def landed(path: Path) -> str:
    """A digest of everything in the raw store (records and their tombstones, watermarks, tokens)."""
    store = RawStore(path)
    digest = hashlib.sha256()
    with store.connection() as conn:
        for table in ("records", "sync_state", "oauth_tokens"):
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3"):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def with_a_landed_record(config: Config) -> str:
    store = RawStore(config.app.raw_db)
    store.init()
    store.land("oura", "daily_activity", [RawRecord("a", "2026-11-01", {"id": "a", "day": "2026-11-01", "steps": 1})],
               watermark="2026-11-01")
    return landed(config.app.raw_db)


def expire(store: RawStore, provider: str) -> None:
    token = store.token(provider)
    assert token is not None
    store.save_token(provider, access_token=token.access_token, refresh_token=token.refresh_token,
                     token_type=token.token_type, scope=token.scope,
                     expires_at=datetime.now(timezone.utc) - timedelta(minutes=1))


# 1 ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("provider", "prefix", "profile"), [("oura", "oura", oura.OAUTH),
                                                             ("fitbit", "google-health", google_health.OAUTH)])
def test_a_token_endpoint_failing_for_good_is_unavailable_not_a_refused_grant_and_the_next_run_works(
    tmp_path: Path, sandbox: Sandbox, provider: str, prefix: str, profile: object
) -> None:
    config = all_providers_config(tmp_path / "c.toml", sandbox, TODAY - timedelta(days=20), "Europe/Berlin")
    store = RawStore(config.app.raw_db)
    tokens = OAuthTokens(config.provider(provider), store, profile)  # type: ignore[arg-type]
    before = store.token(provider)
    expire(store, provider)
    sandbox.log.clear()
    sandbox.faults.set(prefix, FaultPlan(probabilities={"5xx": 1.0}, only_paths_containing=TOKEN_PATHS[prefix]))
    with pytest.raises(ProviderUnavailable) as failed:
        tokens.access_token()
    url = config.provider(provider).token_url
    assert str(failed.value) == (f"{provider}: the token endpoint {url} answered HTTP 503 after 5 attempts; "
                                 "the stored tokens are kept: re-run later")
    assert "was refused" not in str(failed.value) and "health-pipeline auth" not in str(failed.value)
    assert len([e for e in sandbox.log.entries(prefix) if TOKEN_PATHS[prefix] in e.path]) == 5
    assert store.token(provider).refresh_token == before.refresh_token  # type: ignore[union-attr]
    sandbox.faults.clear(prefix)  # the provider is back
    assert tokens.access_token() != before.access_token and tokens.refreshes == 1  # type: ignore[union-attr]


@pytest.mark.parametrize(("provider", "prefix", "resource"), [("oura", "oura", "daily_activity"),
                                                              ("fitbit", "google-health", "steps")])
def test_a_token_endpoint_that_answers_5xx_429_and_resets_for_a_moment_is_asked_again_and_the_sync_lands(
    tmp_path: Path, sandbox: Sandbox, provider: str, prefix: str, resource: str
) -> None:
    config = all_providers_config(tmp_path / "c.toml", sandbox, TODAY - timedelta(days=20), "Europe/Berlin")
    store = RawStore(config.app.raw_db)
    expire(store, provider)
    sandbox.log.clear()
    sandbox.faults.set(prefix, FaultPlan(script=deque(["5xx", "429", "reset"]), only_paths_containing=TOKEN_PATHS[prefix]))
    with dg.instance_for_test() as instance:
        result = run_range(config, instance, [f"{provider}_{resource}"], TODAY - timedelta(days=2), TODAY)
    assert result.success
    asked = [e.fault for e in sandbox.log.entries(prefix) if TOKEN_PATHS[prefix] in e.path]
    assert asked == ["5xx", "429", "reset", None]  # asked again until it answered
    assert len(store.records(provider, resource)) == 3


# 2 ---------------------------------------------------------------------------------------------

def test_a_label_name_outside_ascii_is_refused_at_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[victoriametrics]\nextra_labels = { "é" = "x" }\n', encoding="utf-8")
    code, out, err = cli(capsys, "--config", str(path), "status")
    assert (code, out) == (2, "")
    assert err == (f"health-pipeline: error: {path}: [victoriametrics] extra_labels: 'é' is not a valid metric label "
                   "name (letters a-z, digits and _, not first a digit)\n")


def test_series_written_with_such_a_label_by_an_older_release_are_corrected_once_it_is_gone(
    tmp_path: Path, sandbox: Sandbox, victoriametrics: LocalVictoriaMetrics
) -> None:
    config = all_providers_config(tmp_path / "c.toml", sandbox, TODAY - timedelta(days=20), "Europe/Berlin",
                                  extra=f'[victoriametrics]\nenabled = true\nurl = "{victoriametrics.url}"\n')
    with dg.instance_for_test() as instance:
        assert run_range(config, instance, ["oura_daily_activity", "daily_activity"], TODAY - timedelta(days=6), TODAY).success
    metrics = [m for m in metrics_for(False) if m.table == "daily_activity"]
    vm = VictoriaMetrics(config.victoriametrics)
    old = ExportSettings("me", "Europe/Berlin", {"é": "x"}, "charge6")  # what an older release let through
    try:
        with TidyStore(config.app.duckdb).connect() as conn:
            export(conn, vm, metrics, old, start=TODAY - timedelta(days=6), end=TODAY, tables=TABLES)
        vm.force_flush()
        assert any(s["metric"].get("é") == "x" for s in vm.export('{__name__="health_steps"}'))
        with TidyStore(config.app.duckdb).connect() as conn:  # the label removed from the config
            result = export(conn, vm, metrics, ExportSettings("me", "Europe/Berlin", {}, "charge6"),
                            start=TODAY - timedelta(days=6), end=TODAY, tables=TABLES)
    finally:
        vm.close()
    assert result.series_rewritten and all("é" not in s for s in held(config))
    assert_exact(config)


# 3 ---------------------------------------------------------------------------------------------

def test_a_start_date_in_the_future_is_a_config_error(make_config: ConfigFactory, dagster_home: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    config = make_config()
    before = with_a_landed_record(config)
    future = datetime.now(config.app.tz).date() + timedelta(days=30)
    text = config.path.read_text(encoding="utf-8").replace(f'start_date = "{config.oura.start_date}"',  # type: ignore[union-attr]
                                                             f'start_date = "{future}"')
    config.path.write_text(text, encoding="utf-8")  # type: ignore[union-attr]
    code, out, err = cli(capsys, "--config", str(config.path), "sync")
    today = datetime.now(config.app.tz).date()
    assert (code, out) == (2, "")
    assert err == (f"health-pipeline: error: {config.path}: [oura] start_date: {future} is in the future "
                   f"(today is {today} in Europe/Berlin)\n")
    assert landed(config.app.raw_db) == before


# 4 ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "what", "problem"), [
    ("raw_db", "text", "is not a SQLite database (another file is there); point it at the store or a new file"),
    ("raw_db", "folder", "is a folder; give the path of a file (it is created if missing)"),
    ("duckdb", "text", "is not a DuckDB database (another file is there); point it at the store or a new file"),
    ("duckdb", "sqlite", "is not a DuckDB database (another file is there); point it at the store or a new file"),
    ("duckdb", "folder", "is a folder; give the path of a file (it is created if missing)"),
])
@pytest.mark.parametrize("command", ["status", "init"])
def test_a_store_path_at_something_else_is_one_line_and_leaves_it_alone(
    tmp_path: Path, dagster_home: Path, capsys: pytest.CaptureFixture[str], key: str, what: str, problem: str,
    command: str
) -> None:
    target = tmp_path / "elsewhere"
    if what == "folder":
        target.mkdir()
        (target / "notes.txt").write_text("mine", encoding="utf-8")
    elif what == "text":
        target.write_text("my shopping list\n", encoding="utf-8")
    else:
        RawStore(target).init()
    content = None if what == "folder" else target.read_bytes()
    path = tmp_path / "c.toml"
    path.write_text(f'[app]\n{key} = "{target}"\n', encoding="utf-8")
    code, out, err = cli(capsys, "--config", str(path), command)
    assert (code, out) == (2, "")
    assert err == f"health-pipeline: error: {path}: [app] {key}: {target} {problem}\n"
    assert (target / "notes.txt").read_text(encoding="utf-8") == "mine" if what == "folder" else \
        target.read_bytes() == content


# 5, 6 ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "problem"), [
    ('[oura]\nbase_url = "http://[::1"\n', "[oura] base_url: must be an http(s) URL, got 'http://[::1' (Invalid IPv6 URL)"),
    ('[victoriametrics]\nurl = "http://localhost:99999"\n',
     "[victoriametrics] url: must be an http(s) URL, got 'http://localhost:99999' (Port out of range 0-65535)"),
    ("[victoriametrics]\ntimeout_s = inf\n", "[victoriametrics] timeout_s: must be a finite number, got inf"),
    ("[app]\nlock_wait_s = nan\n", "[app] lock_wait_s: must be a finite number, got nan"),
])
def test_an_unusable_url_or_an_endless_timeout_is_one_line_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, problem: str
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    code, out, err = cli(capsys, "--config", str(path), "status")
    assert (code, out) == (2, "")
    assert err == f"health-pipeline: error: {path}: {problem}\n"
    code, out, err = cli(capsys, "--config", str(path), "doctor")  # the same line, as doctor's first finding
    assert code == 1 and err == "" and f"FAIL    config  {path}: {problem}" in out


# 7 ---------------------------------------------------------------------------------------------

def without_permission_override() -> None:
    """In the child, before exec: as root, give up the capabilities that ignore file modes (CAP_DAC_OVERRIDE,
    CAP_DAC_READ_SEARCH), so a folder of mode 000 is closed to it as to anybody."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_a_config_in_a_folder_one_may_not_enter_is_exit_2_with_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "health-pipeline.toml").write_text("[app]\n", encoding="utf-8")
    folder.chmod(0)
    try:
        result = subprocess.run([sys.executable, "-m", "health_pipeline.cli", "--config",
                                 str(folder / "health-pipeline.toml"), "status"], capture_output=True, text=True,
                                timeout=120, preexec_fn=without_permission_override if os.getuid() == 0 else None)
    finally:
        folder.chmod(0o700)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"health-pipeline: error: {folder / 'health-pipeline.toml'}: cannot read the config "
                             "file: Permission denied\n")


# 8 ---------------------------------------------------------------------------------------------

def test_sandbox_serve_with_an_unknown_time_zone_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sandbox", "serve", "--timezone", "Mars/Base", "--port", "0"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith(
        "health-pipeline sandbox serve: error: argument --timezone: unknown IANA time zone 'Mars/Base'")
    assert "Traceback" not in err


# 9 ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["localtime", "posixrules"])
def test_a_time_zone_that_is_not_an_iana_name_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          name: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[app]\ntimezone = "{name}"\n', encoding="utf-8")
    code, out, err = cli(capsys, "--config", str(path), "status")
    local = system_timezone()
    hint = f"; this machine's is {local!r}" if local else ""
    assert (code, out) == (2, "")
    assert err == (f"health-pipeline: error: {path}: [app] timezone: {name!r} is not an IANA time zone name: "
                   f"give the name itself (e.g. 'Europe/Berlin'){hint}\n")


# 10 --------------------------------------------------------------------------------------------

def test_credentials_in_the_victoriametrics_url_are_never_shown(
    make_config: ConfigFactory, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(vm_url="http://vmuser:hunter2-secret@127.0.0.1:9")  # nothing listens on port 9
    assert main(["--config", str(config.path), "init"]) == 0
    authorize_with_sandbox(OAuthTokens(config.oura, RawStore(config.app.raw_db), oura.OAUTH))
    outputs = [cli(capsys, "--config", str(config.path), command) for command in ("status", "doctor")]
    outputs.append(cli(capsys, "--config", str(config.path), "sync", "--provider", "oura"))
    for code, out, err in outputs:
        assert "hunter2" not in out + err
    assert "http://vmuser:***@127.0.0.1:9" in outputs[0][1] and "http://vmuser:***@127.0.0.1:9" in outputs[1][1]
    assert outputs[2][0] == 1 and "cannot reach VictoriaMetrics at http://vmuser:***@127.0.0.1:9" in outputs[2][2]


def test_the_tidy_store_is_private_like_the_raw_store(make_config: ConfigFactory, dagster_home: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    config = make_config()
    old = os.umask(0o022)
    try:
        assert cli(capsys, "--config", str(config.path), "init")[0] == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(config.app.duckdb.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.app.raw_db.stat().st_mode) == 0o600
    config.app.duckdb.chmod(0o644)  # a file made by an older release
    with TidyStore(config.app.duckdb).connect() as conn:
        create_tables(conn)
    assert stat.S_IMODE(config.app.duckdb.stat().st_mode) == 0o600


@pytest.mark.parametrize(("url", "warned"), [("http://vm.example.org:8428", True), ("https://vm.example.org", False),
                                            ("http://127.0.0.1:8428", False), ("http://localhost:8428", False)])
def test_a_password_over_plain_http_to_another_machine_gets_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str, warned: bool
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[victoriametrics]\nenabled = true\nurl = "{url}"\nusername = "u"\npassword = "p"\n', encoding="utf-8")
    path.chmod(0o600)
    load_config(path)
    err = capsys.readouterr().err
    host = url.split("//")[1].split(":")[0]
    expected = (f"health-pipeline: warning: the VictoriaMetrics password goes over plain http to {host}; "
                "use an https URL\n")
    assert err == (expected if warned else "")
