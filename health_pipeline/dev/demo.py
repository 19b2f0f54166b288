"""The one-command demo: sandbox + local VictoriaMetrics + a real sync of the last N days + the UI.

Everything it writes lives under `.demo/` in the working directory: the config, the stores,
VictoriaMetrics' data and the Dagster home (`.demo/dagster_home`) that both the sync and the
`dagster dev` it starts use, so the sync's run is the first one in the UI.
"""

import secrets
from collections.abc import Callable, Sequence
import signal
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import dagster as dg
import requests

from health_pipeline.config import Config
from health_pipeline.dev.dagster_dev import DagsterDev
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.dev.sandbox import sandbox_for
from health_pipeline.instance.home import instance_in, register_pools
from health_pipeline.pipeline.build import build_definitions
from health_pipeline.providers.errors import ReauthorizationNeeded
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.registry import REGISTRY, load_config
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import DEFAULT_TIMEZONE, SandboxWorld, default_days
from health_pipeline.storage.duckdb_store import TidyStore, scalar
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.sync import materialize_range
from health_pipeline.tidy.models import create_tables


@dataclass(frozen=True)
class DemoOptions:
    """What the demo runs: how many days to sync, where, on which ports, and whether to keep serving."""

    days: int = 90
    workdir: Path = Path(".demo")
    sandbox_port: int = 8765
    vm_port: int = 8428
    ui_port: int = 3000
    seed: int = 42
    wait: bool = True
    ui: bool = True
    people: int = 1  # more: a household, each with their own sandbox world and tokens


def sandbox_config_text(sandbox: Sandbox, start: date, timezone: str, user: str, vm_url: str | None = None,
                        extra: str = "") -> str:
    """A config enabling every source against `sandbox` (each source writes its own section)."""
    vm = f'[victoriametrics]\nenabled = true\nurl = "{vm_url}"\n\n' if vm_url else ""
    return (
        "# Every provider URL points at the local sandbox (the fake provider APIs).\n"
        f'[app]\nraw_db = "data/raw.sqlite"\nduckdb = "data/health.duckdb"\ntimezone = "{timezone}"\n'
        f'user = "{user}"\n\n'
        + "".join(fake.config_text(sandbox.url(fake.mount), start) for fake in sandbox.fakes)
        + vm + extra
    )


DEMO_PEOPLE = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")


def demo_people(count: int, home: str) -> list[str]:
    """The ids of a demo household of `count`: the home's person first, then names, then `p9`, `p10`, ..."""
    others = [*DEMO_PEOPLE, *(f"p{i}" for i in range(len(DEMO_PEOPLE) + 1, count + 1))]
    return [home, *others[:count - 1]]


def people_config_text(sandbox: Sandbox, people: Sequence[str], home: str) -> str:
    """`[people.<id>]` tables for a household in the sandbox, each in their own world's time zone (`home`, the
    single-person home's person, signs in without a hint: the sandbox's default world)."""
    return "".join(f'\n[people.{p}]\ntimezone = "{(sandbox.world if p == home else sandbox.world_for(p)).timezone}"\n'
                   for p in people)


def write_sandbox_config(path: Path, text: str, sandbox: Sandbox | None = None) -> Config:
    """Write a sandbox config (mode 0600), create the stores, authorise the OAuth providers for everyone the
    config lists (the single-person home's person without people tables); load it. With people, `sandbox`
    gives each their Hevy key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    config = load_config(path)
    store = config.raw_store()
    store.init()
    with TidyStore(config.app.duckdb).connect() as conn:
        create_tables(conn)
    for person in config.people or [config.app.user]:
        mine = store.for_person(person)
        hint = None if person == config.app.user else person  # the home's person: the sandbox's default world
        for source in REGISTRY.apis:
            settings = config.provider(source.name)
            if not settings.enabled:
                continue
            if source.oauth is None:  # an API key: the sandbox's `sandbox-api-key-<id>` (see "Many people")
                if hint is not None:
                    mine.save_token(source.name, access_token=f"sandbox-api-key-{person}", refresh_token=None)
                continue
            tokens = OAuthTokens(settings, mine, source.oauth)
            authorize_with_sandbox(tokens, login_hint=hint)
            if source.after_authorize is not None:
                zone = config.people[person].timezone if config.people else None
                app = config.app.model_copy(update={"timezone": zone}) if zone else config.app
                api = source.build_client(settings, app, mine)
                try:
                    source.after_authorize(api, tokens.answer)
                finally:
                    api.http.close()
    return config


def authorize_with_sandbox(tokens: OAuthTokens, login_hint: str | None = None) -> None:
    """The authorization-code flow against the sandbox, which approves without a browser (as the person
    `login_hint` names: the sandbox opens their world)."""
    state = secrets.token_urlsafe(16)
    extra = {"login_hint": login_hint} if login_hint else {}
    response = requests.get(tokens.authorization_url(state, **extra), allow_redirects=False, timeout=10)
    location = response.headers.get("Location", "")
    query = parse_qs(urlsplit(location).query)
    if query.get("state", [""])[0] != state or "code" not in query:
        raise ReauthorizationNeeded(tokens.provider, "the sandbox's authorize step did not return a code")
    tokens.exchange_code(query["code"][0], granted=query.get("scope", [None])[0])


def run_demo(options: DemoOptions, say: Callable[[str], None] = print) -> Config:
    """Start the world, sync `options.days` days end to end, start the UI, serve until Ctrl-C.

    Every process it starts (the sandbox and VictoriaMetrics threads and servers, `dagster dev`
    with its webserver, daemon and code server) is stopped on the way out, whatever the reason.
    """
    workdir = options.workdir.absolute()
    now = datetime.now(timezone.utc)
    world = SandboxWorld(seed=options.seed, days=default_days(DEFAULT_TIMEZONE, now, options.days))
    sandbox = sandbox_for(world, port=options.sandbox_port)
    vm = LocalVictoriaMetrics(workdir / "victoria-metrics", port=options.vm_port)
    ui: DagsterDev | None = None
    try:
        sandbox.start()
        say(f"sandbox:         {sandbox.base_url} (serving: {', '.join('/' + p for p in sandbox.providers)})")
        vm.start()
        say(f"VictoriaMetrics: {vm.url} (data in {vm.data_path})")
        today = now.astimezone(world.tz).date()
        first = today - timedelta(days=world.days - 1)
        people = demo_people(options.people, "demo") if options.people > 1 else []
        config = write_sandbox_config(workdir / "health-pipeline.toml",
                                      sandbox_config_text(sandbox, first, world.timezone, "demo", vm.url,
                                                          extra=people_config_text(sandbox, people, "demo")))
        if people:
            say(f"people:          {', '.join(people)} (each their own sandbox world and tokens)")
        home = workdir / "dagster_home"
        start = today - timedelta(days=options.days - 1)
        say(f"syncing {start} .. {today} for {REGISTRY.titles()} (one Dagster run) ...")
        with instance_in(home) as instance:
            register_pools(instance, REGISTRY.pools)
            result = materialize_range(config, instance, all_asset_keys(config), start, today)
        _report(config, vm.url, result.run_id, say)
        if options.ui:
            say("starting the Dagster UI (dagster dev: webserver, daemon, code server) ...")
            ui = DagsterDev(home, config.path, port=options.ui_port, cwd=workdir).start()
            say(f"Dagster UI:      {ui.url}   (assets: {ui.url}/assets, runs: {ui.url}/runs; log {ui.log_path})")
        if options.wait:
            say("Serving the sandbox, VictoriaMetrics and the Dagster UI; press Ctrl-C to stop them all.")
            _wait_for_interrupt(ui, say)
        return config
    finally:
        if ui is not None:
            ui.stop()
        vm.stop()
        sandbox.stop()


def all_asset_keys(config: Config) -> list[dg.AssetKey]:
    """Every asset a full sync runs: landing assets of all providers, tidy tables, the export (not the
    imports, which read an export the user names)."""
    imports = {source.asset for source in config.registry.imports}
    return [key for asset in build_definitions(config).assets or [] for key in asset.keys  # type: ignore[union-attr]
            if key.to_user_string() not in imports]


def _report(config: Config, vm_url: str, run_id: str, say: Callable[[str], None]) -> None:
    with TidyStore(config.app.duckdb).connect(read_only=True) as conn:
        counts = {table: scalar(conn, f"SELECT count(*) FROM {table}")
                  for table in ("daily_activity", "heart_rate", "sleep_sessions", "body_measurements", "workouts")}
    say(f"done: run {run_id}")
    say(f"  config:      {config.path}")
    say(f"  raw store:   {config.app.raw_db}")
    say(f"  DuckDB:      {config.app.duckdb} ({', '.join(f'{t}: {n} rows' for t, n in counts.items())})")
    say(f"  PromQL:      curl -s '{vm_url}/api/v1/query_range' --data-urlencode 'query=health_steps' "
        f"--data-urlencode 'start=-30d' --data-urlencode 'step=1d'")


def _wait_for_interrupt(ui: "DagsterDev | None", say: Callable[[str], None]) -> None:
    """Block until Ctrl-C or SIGTERM, or until `dagster dev` dies on its own (then say so)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            if ui is not None and ui.process is not None and ui.process.poll() is not None:
                say(f"dagster dev exited (status {ui.process.returncode}); its log: {ui.log_path}\n{ui.tail()}")
                return
    except KeyboardInterrupt:
        say("stopping ...")
