"""`health-pipeline auth` and `tokens import` against the sandbox, with the test playing the browser."""

import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from health_pipeline.cli import main
from health_pipeline.registry import load_config
from health_pipeline.dev.local_victoriametrics import free_port
from health_pipeline.sources.withings import client as withings_client
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.sources.fitbit.sandbox.api import SCOPE_PREFIX, GoogleSettings
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.storage.raw_store import RawStore

WITHINGS_REDIRECT = "https://health.example.org/withings/callback"


def write_config(tmp_path: Path, sandbox: Sandbox, redirect: str) -> Path:
    g, o, w = sandbox.url("google-health"), sandbox.url("oura"), sandbox.url("withings")
    path = tmp_path / "health-pipeline.toml"
    path.write_text(f"""
[oura]
enabled = true
base_url = "{o}"
authorize_url = "{o}/oauth/authorize"
token_url = "{o}/oauth/token"
client_id = "sandbox"
client_secret = "sandbox-secret"
redirect_uri = "{redirect}"

[fitbit]
enabled = true
base_url = "{g}"
authorize_url = "{g}/o/oauth2/v2/auth"
token_url = "{g}/token"
client_id = "sandbox"
client_secret = "sandbox-secret"
redirect_uri = "{redirect}"

[withings]
enabled = true
base_url = "{w}"
authorize_url = "{w}/oauth2_user/authorize2"
token_url = "{w}/v2/oauth2"
client_id = "sandbox"
client_secret = "sandbox-secret"
redirect_uri = "{WITHINGS_REDIRECT}"

[hevy]
enabled = true
base_url = "{sandbox.url('hevy')}"
api_key = "sandbox-api-key"
""")
    path.chmod(0o600)
    return path


class Cli:
    """The command in a child process, its output read line by line."""

    def __init__(self, config: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "health_pipeline.cli", "--config", str(config), *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
        )
        self.lines: list[str] = []
        self._killer = threading.Timer(120, self.process.kill)  # a hung flow must not hang the suite
        self._killer.start()

    def url(self) -> str:
        """The authorize URL the command prints."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if line.strip().startswith("http"):
                return line.strip()
        raise AssertionError("no URL printed: " + "".join(self.lines) + self.process.stderr.read())  # type: ignore[union-attr]

    def finish(self, stdin: str | None = None) -> tuple[int, str, str]:
        out, err = self.process.communicate(stdin, timeout=120)
        self._killer.cancel()
        return self.process.returncode, "".join(self.lines) + out, err


@pytest.fixture
def redirect() -> str:
    return f"http://localhost:{free_port()}/callback"


@pytest.fixture
def config_path(tmp_path: Path, sandbox: Sandbox, redirect: str) -> Path:
    return write_config(tmp_path, sandbox, redirect)


def browse(url: str) -> str:
    """What a browser does: the provider approves and redirects; return where it sends us."""
    return requests.get(url, allow_redirects=False, timeout=30).headers["Location"]


def test_oura_authorization_code_flow_through_the_loopback_callback(config_path: Path, redirect: str) -> None:
    cli = Cli(config_path, "auth", "oura", "--no-browser")
    url = cli.url()
    assert url.startswith(load_config(config_path).oura.authorize_url + "?response_type=code&client_id=sandbox")
    callback = browse(url)
    assert callback.startswith(redirect + "?code=")
    page = requests.get(callback, timeout=30)
    assert page.status_code == 200 and "Authorization received" in page.text
    code, out, err = cli.finish()
    assert code == 0, err
    assert "oura: authorised; tokens stored in" in out
    token = RawStore(load_config(config_path).app.raw_db).token("oura")
    assert token is not None and token.refresh_token and token.expires_at is not None
    assert token.access_token not in out + err and token.refresh_token not in out + err


def test_a_callback_with_the_wrong_state_is_refused(config_path: Path, redirect: str) -> None:
    cli = Cli(config_path, "auth", "oura", "--no-browser")
    cli.url()
    requests.get(f"{redirect}?code=stolen&state=forged", timeout=30)
    code, _, err = cli.finish()
    assert code == 1
    assert err == ("health-pipeline: error: oura: the redirect's state does not match the one sent (a stale or "
                   "forged redirect); run the command again\n")
    assert RawStore(load_config(config_path).app.raw_db).token("oura") is None


def test_the_callback_listens_on_loopback_only() -> None:
    from health_pipeline.auth_flow import _CallbackServer

    server = _CallbackServer(free_port(), "/callback")
    try:
        assert server.socket.getsockname()[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_google_asks_for_offline_access_and_reports_partial_consent(config_path: Path, sandbox: Sandbox) -> None:
    sandbox.google_health.settings = GoogleSettings(granted_scopes={
        SCOPE_PREFIX + "activity_and_fitness.readonly", SCOPE_PREFIX + "sleep.readonly"})
    cli = Cli(config_path, "auth", "fitbit", "--no-browser")
    url = cli.url()
    assert "access_type=offline" in url and "prompt=consent" in url
    requests.get(browse(url), timeout=30)
    code, out, err = cli.finish()
    assert code == 0, err
    assert f"fitbit: warning: not granted: {SCOPE_PREFIX}health_metrics_and_measurements.readonly, " \
           f"{SCOPE_PREFIX}settings.readonly; data needing them will be skipped" in out
    token = RawStore(load_config(config_path).app.raw_db).token("fitbit")
    assert token is not None and token.refresh_token  # offline access: a refresh token was issued


def test_withings_needs_manual_mode_and_then_exchanges_the_pasted_code(config_path: Path) -> None:
    code, _, err = Cli(config_path, "auth", "withings", "--no-browser").finish()
    assert code == 1 and "redirect_uri https://health.example.org/withings/callback is not on this machine" in err
    cli = Cli(config_path, "auth", "withings", "--manual")
    url = cli.url()
    assert "scope=user.info%2Cuser.metrics%2Cuser.activity%2Cuser.sleepevents" in url
    pasted = browse(url)
    assert pasted.startswith(WITHINGS_REDIRECT)
    code, out, err = cli.finish(stdin=pasted + "\n")
    assert code == 0, err
    config = load_config(config_path)
    store = RawStore(config.app.raw_db)
    first = store.token("withings")
    assert first is not None and first.expires_at is not None
    tokens = OAuthTokens(config.withings, store, withings_client.OAUTH)
    tokens.access_token(force_refresh=True)  # action=requesttoken, answer unwrapped from {status, body}
    second = store.token("withings")
    assert second is not None and second.refresh_token != first.refresh_token


def test_hevy_auth_checks_the_key_with_one_call(config_path: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    sandbox.log.clear()
    assert main(["--config", str(config_path), "auth", "hevy"]) == 0
    assert capsys.readouterr().out == "hevy: the API key works (account sandbox_person)\n"
    assert [e.path for e in sandbox.log.entries("hevy")] == ["/v1/user/info"]
    sandbox.hevy.oauth.revoke_all()
    assert main(["--config", str(config_path), "auth", "hevy"]) == 1
    assert "hevy: the API key was refused" in capsys.readouterr().err


def test_a_legacy_fitbit_configuration_gets_the_retired_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "legacy.toml"
    path.write_text('[fitbit]\nenabled = true\nclient_id = "x"\nclient_secret = "y"\n'
                    'authorize_url = "https://www.fitbit.com/oauth2/authorize"\ntoken_url = "https://api.fitbit.com/oauth2/token"\n')
    path.chmod(0o600)
    assert main(["--config", str(path), "auth", "fitbit", "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("health-pipeline: error: fitbit: [fitbit] authorize_url points at the legacy Fitbit Web API "
                          "(www.fitbit.com), retired in November 2026 (it answers 410 Gone)")
    assert "`health-pipeline auth fitbit`" in err


def test_tokens_import_stores_tokens_for_headless_hosts(
    config_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("refresh-from-stdin\n"))
    assert main(["--config", str(config_path), "tokens", "import", "oura", "--access-token", "acc",
                 "--refresh-token", "-", "--expires-at", "2026-11-23T10:00:00Z"]) == 0
    token = RawStore(load_config(config_path).app.raw_db).token("oura")
    assert token is not None
    assert (token.access_token, token.refresh_token, token.expires_at) == (
        "acc", "refresh-from-stdin", datetime(2026, 11, 23, 10, tzinfo=timezone.utc))
    assert "acc" not in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config_path), "tokens", "import", "oura", "--access-token", "a", "--expires-at", "tomorrow"])
    assert exited.value.code == 2

