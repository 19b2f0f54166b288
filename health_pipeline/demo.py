"""The one-command demo: sandbox + local VictoriaMetrics + a real sync of the last N days.

Everything it writes lives under `.demo/` in the working directory; its runs are recorded in
the same Dagster instance `dagster dev` uses from the repo root, so they show up in the UI.
"""

import secrets
from collections.abc import Callable
import signal
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

from health_pipeline.config import Config, load_config
from health_pipeline.instance import open_instance
from health_pipeline.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.providers import oura
from health_pipeline.providers.errors import ReauthorizationNeeded
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import DEFAULT_TIMEZONE, SandboxWorld, default_days
from health_pipeline.storage.duckdb_store import TidyStore, scalar
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.sync import downstream_keys, materialize_range, raw_asset_keys
from health_pipeline.tidy.models import create_tables


@dataclass(frozen=True)
class DemoOptions:
    """What the demo runs: how many days to sync, where, and whether to keep serving."""

    days: int = 30
    workdir: Path = Path(".demo")
    sandbox_port: int = 8765
    vm_port: int = 8428
    seed: int = 42
    wait: bool = True


def write_demo_config(path: Path, sandbox_url: str, vm_url: str, timezone: str, start: str) -> None:
    """The demo's config file: Oura pointed at the sandbox, export to the local server."""
    oura_url = f"{sandbox_url}/oura"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"""# Written by `health-pipeline demo`: every provider URL points at the local sandbox.
[app]
raw_db = "data/raw.sqlite"
duckdb = "data/health.duckdb"
timezone = "{timezone}"
user = "demo"

[oura]
enabled = true
start_date = "{start}"
base_url = "{oura_url}"
authorize_url = "{oura_url}/oauth/authorize"
token_url = "{oura_url}/oauth/token"
client_id = "sandbox"
client_secret = "sandbox-secret"

[victoriametrics]
enabled = true
url = "{vm_url}"
""",
        encoding="utf-8",
    )
    path.chmod(0o600)


def authorize_with_sandbox(tokens: OAuthTokens) -> None:
    """The authorization-code flow against the sandbox, which approves without a browser."""
    state = secrets.token_urlsafe(16)
    response = requests.get(tokens.authorization_url(state), allow_redirects=False, timeout=10)
    location = response.headers.get("Location", "")
    query = parse_qs(urlsplit(location).query)
    if query.get("state", [""])[0] != state or "code" not in query:
        raise ReauthorizationNeeded(tokens.provider, "the sandbox's authorize step did not return a code")
    tokens.exchange_code(query["code"][0])


def run_demo(options: DemoOptions, say: Callable[[str], None] = print) -> Config:
    """Start the world, sync `options.days` days end to end, report, and serve until Ctrl-C."""
    workdir = options.workdir.absolute()
    world = SandboxWorld(seed=options.seed, days=default_days(DEFAULT_TIMEZONE, datetime.now(timezone.utc), options.days))
    sandbox = Sandbox(world, port=options.sandbox_port).start()
    vm = LocalVictoriaMetrics(workdir / "victoria-metrics", port=options.vm_port)
    try:
        say(f"sandbox:         {sandbox.base_url} (serving: {', '.join('/' + p for p in sandbox.providers)})")
        vm.start()
        say(f"VictoriaMetrics: {vm.url} (data in {vm.data_path})")
        today = datetime.now(world.tz).date()
        config_path = workdir / "health-pipeline.toml"
        write_demo_config(
            config_path, sandbox.base_url, vm.url, world.timezone, (today - timedelta(days=world.days - 1)).isoformat()
        )
        config = load_config(config_path)
        store = RawStore(config.app.raw_db)
        store.init()
        with TidyStore(config.app.duckdb).connect() as conn:
            create_tables(conn)
        authorize_with_sandbox(OAuthTokens(config.oura, store, oura.OAUTH))
        start = today - timedelta(days=options.days - 1)
        say(f"syncing {start} .. {today} (one Dagster run) ...")
        with open_instance(config) as instance:
            result = materialize_range(
                config, instance, raw_asset_keys(config, None) + downstream_keys(config), start, today
            )
        _report(config, vm.url, result.run_id, say)
        if options.wait:
            say("Serving the sandbox and VictoriaMetrics; press Ctrl-C to stop.")
            _wait_for_interrupt()
        return config
    finally:
        vm.stop()
        sandbox.stop()


def _report(config: Config, vm_url: str, run_id: str, say: Callable[[str], None]) -> None:
    with TidyStore(config.app.duckdb).connect(read_only=True) as conn:
        days = scalar(conn, "SELECT count(*) FROM daily_activity")
        samples = scalar(conn, "SELECT count(*) FROM heart_rate")
    say(f"done: run {run_id}")
    say(f"  raw store:   {config.app.raw_db}")
    say(f"  DuckDB:      {config.app.duckdb} (daily_activity: {days} days, heart_rate: {samples} samples)")
    say(f"  PromQL:      curl -s '{vm_url}/api/v1/query_range' --data-urlencode 'query=health_steps' "
        f"--data-urlencode 'start=-30d' --data-urlencode 'step=1d'")
    say(f"  Dagster UI:  HEALTH_PIPELINE_CONFIG={config.path} dagster dev   (then open http://127.0.0.1:3000)")


def _wait_for_interrupt() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
