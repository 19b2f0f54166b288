"""The config contract: where it is found, defaults, secrets, and one-line errors with exit 2."""

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from health_pipeline.cli import main
from health_pipeline.registry import load_config
from health_pipeline.settings import Secret
from health_pipeline.config import CONFIG_ENV

VALID_OURA = """
[oura]
enabled = true
client_id = "abc"
client_secret = "s3cret-value"
"""


def write(tmp_path: Path, text: str, name: str = "health-pipeline.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def run_status(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "status"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[app]\ntimezone = \"Mars/Olympus\"\n", "[app] timezone: unknown IANA time zone 'Mars/Olympus'"),
        ("[oura]\nenabled = true\nclient_id = \"x\"\n", "[oura] client_secret: is required when the provider is enabled"),
        ("[oura]\nenabled = true\nclient_secret = \"x\"\n", "[oura] client_id: is required when the provider is enabled"),
        ("[hevy]\nenabled = true\n", "[hevy] api_key: is required when Hevy is enabled"),
        ("[oura]\nstart_date = \"2024-13-01\"\n", "[oura] start_date: not a date (expected YYYY-MM-DD), got '2024-13-01'"),
        ("[oura]\nstart_date = 2024-01-01T10:00:00\n", "[oura] start_date: not a date (expected YYYY-MM-DD)"),
        ("[oura]\ncolour = \"red\"\n", "[oura] colour: unknown key"),
        ("[garmin]\nenabled = true\n", "unknown section [garmin]"),
        ("[oura]\nenabled = \"yes\"\n", "[oura] enabled: must be a boolean (true/false), got 'yes'"),
        ("[oura]\nbase_url = \"ftp://x\"\n", "[oura] base_url: must be an http(s) URL, got 'ftp://x'"),
        ("[victoriametrics]\nextra_labels = { \"bad-name\" = \"x\" }\n", "[victoriametrics] extra_labels: 'bad-name' is not a valid metric label name"),
        ("[victoriametrics]\npassword = \"p\"\n", "[victoriametrics] username: is required when a password is set"),
        ("[victoriametrics]\nextra_labels = { user = \"x\" }\n", "[victoriametrics] extra_labels: 'user' is a label the "
         "exported series already carry (activity, device, level, provider, segment, stage, type, user, zone)"),
        ("[victoriametrics]\nextra_labels = { host = \"\" }\n",
         "[victoriametrics] extra_labels: value of 'host' must be a non-empty string"),
        ("[victoriametrics]\nca_bundle = \"certs/none.pem\"\n", "[victoriametrics] ca_bundle: no such file: "),
        ("[victoriametrics]\nsyncbit_device = \" \"\n", "[victoriametrics] syncbit_device: must not be empty"),
        ("app = 3\n", "[app] must be a table, got int"),
        ("[app]\nuser = \"\"\n", "[app] user: '' is not a person id"),
        ("[app]\nuser = \"jane doe\"\n", "[app] user: 'jane doe' is not a person id"),
        ("[people.alice]\ntimezone = \"Mars/Base\"\n", "[people.alice] timezone: "),
        ("[people.alice]\nsources = [\"myspace\"]\n", "[people.alice] sources: unknown source 'myspace'"),
        ("[people.\"a b\"]\n", "[people.a b]: 'a b' is not a person id"),
        ("[withings]\nmeastypes = [1, \"weight\"]\n", "[withings] meastypes: must be a list of Withings measure type ids"),
        ("[withings]\nmeastypes = 1\n", "[withings] meastypes: must be a list, got 1"),
    ],
)
def test_each_config_error_is_one_line_naming_file_and_key_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    code, out, err = run_status(capsys, "--config", str(path))
    assert code == 2
    assert out == ""
    assert err == f"health-pipeline: error: {path}: {expected}" + err.split(expected, 1)[1]
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_missing_config_file_is_reported_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.toml"
    code, _, err = run_status(capsys, "--config", str(missing))
    assert code == 2
    assert err == f"health-pipeline: error: {missing}: config file not found (pass --config PATH or set {CONFIG_ENV})\n"


def test_invalid_toml_names_the_file_and_position(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "[app\ntimezone = 'UTC'\n")
    code, _, err = run_status(capsys, "--config", str(path))
    assert code == 2
    assert err.startswith(f"health-pipeline: error: {path}: not valid TOML: ")
    assert "line 1" in err and err.count("\n") == 1


def test_the_environment_variable_points_at_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "missing.toml"))
    code, _, err = run_status(capsys)
    assert code == 2 and "missing.toml: config file not found" in err


def test_without_any_config_file_every_default_applies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    config = load_config()
    assert config.path is None
    assert config.app.raw_db == tmp_path / "data/raw.sqlite"
    assert config.app.duckdb == tmp_path / "data/health.duckdb"
    assert config.app.timezone == "UTC" and config.app.user == "me"
    assert config.enabled_providers == []
    assert config.oura.base_url == "https://api.ouraring.com"
    assert config.fitbit.base_url == "https://health.googleapis.com"
    assert config.victoriametrics.url == "http://127.0.0.1:8428"


def test_the_working_directory_file_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "[app]\nuser = \"ana\"\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    assert load_config().app.user == "ana"


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    path = write(folder, "[app]\nraw_db = \"stores/raw.sqlite\"\nduckdb = \"/abs/h.duckdb\"\n")
    monkeypatch.chdir(tmp_path)
    config = load_config(path)
    assert config.app.raw_db == folder / "stores/raw.sqlite"
    assert config.app.duckdb == Path("/abs/h.duckdb")


def test_secrets_come_from_the_environment_and_win_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "[oura]\nenabled = true\nclient_id = \"abc\"\nclient_secret = \"from-file\"\n[hevy]\nenabled = true\n")
    monkeypatch.setenv("HEALTH_PIPELINE_OURA_CLIENT_SECRET", "from-env")
    monkeypatch.setenv("HEALTH_PIPELINE_HEVY_API_KEY", "hevy-env")
    config = load_config(path)
    assert config.oura.client_secret.reveal() == "from-env"
    assert config.hevy.api_key.reveal() == "hevy-env"


def test_secrets_never_show_in_repr_or_str(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, VALID_OURA))
    assert "s3cret-value" not in repr(config) and "s3cret-value" not in str(config.oura)
    assert repr(Secret("x")) == "Secret('********')"
    assert config.oura.start_date == date(2024, 1, 1)


def test_a_config_holding_secrets_that_others_can_read_gets_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, VALID_OURA)
    path.chmod(0o644)
    load_config(path)
    assert capsys.readouterr().err == (
        f"health-pipeline: warning: {path} holds secrets and is readable by other users; run `chmod 600 {path}`\n"
    )
    path.chmod(0o600)
    load_config(path)
    assert capsys.readouterr().err == ""


def test_the_example_config_lists_exactly_the_models_keys_at_their_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    import tomllib

    from health_pipeline.config import defaults
    from health_pipeline.registry import REGISTRY, parse_config

    example = Path(__file__).parent.parent / "health-pipeline.example.toml"
    documented = tomllib.loads(example.read_text(encoding="utf-8"))
    expected = defaults(REGISTRY)
    assert list(documented) == list(expected)  # every section, in the models' order
    for section, keys in expected.items():
        assert documented[section] == keys, f"[{section}] in the example differs from its model"
    for name in ("OURA_CLIENT_SECRET", "HEVY_API_KEY", "VICTORIAMETRICS_PASSWORD"):
        monkeypatch.delenv(f"HEALTH_PIPELINE_{name}", raising=False)
    assert load_config(example) == parse_config({}, example)


def test_each_default_is_written_once_in_its_model() -> None:
    from health_pipeline.config import defaults
    from health_pipeline.registry import REGISTRY

    found = defaults(REGISTRY)
    # the per-source limits come from each source's model, not a shared fallback
    assert {s.name: found[s.name]["requests_per_minute"] for s in REGISTRY.apis} == {
        "oura": 1000, "fitbit": 300, "withings": 120, "hevy": 120, "whoop": 100, "strava": 100, "polar": 100}
    assert found["withings"]["meastypes"] == [] and found["fitbit"]["heart_rate_samples"] is False
    assert found["summary"]["steps"] == ["fitbit", "withings", "oura", "polar", "apple_health", "garmin"]
    assert found["summary"]["strength_volume_kg"] == ["hevy"]


def test_the_installed_command_prints_no_traceback_for_bad_config(tmp_path: Path) -> None:
    path = write(tmp_path, "[oura]\nenabled = true\n")
    result = subprocess.run(
        [sys.executable, "-m", "health_pipeline.cli", "--config", str(path), "sync"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"health-pipeline: error: {path}: [oura] client_id: is required when the provider is enabled\n"
    )


def test_the_committed_example_config_is_what_the_command_writes_now() -> None:
    from health_pipeline.config import example_text
    from health_pipeline.registry import REGISTRY

    example = Path(__file__).parent.parent / "health-pipeline.example.toml"
    assert example.read_text(encoding="utf-8") == example_text(REGISTRY), (
        "health-pipeline.example.toml is stale: run `health-pipeline example-config > health-pipeline.example.toml`")


def test_example_config_writes_a_private_file_and_never_overwrites_one(tmp_path: Path) -> None:
    from health_pipeline.cli import main

    target = tmp_path / "health-pipeline.toml"
    assert main(["example-config", "--output", str(target)]) == 0
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert load_config(target).app.timezone == "UTC"
    assert main(["example-config", "--output", str(target)]) == 2
