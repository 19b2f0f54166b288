"""Real components for every test: the sandbox over HTTP, a VictoriaMetrics server, temp stores.

The sandbox clock is frozen on 2026-11-10 12:00 UTC, so the default 30-day window
(2026-10-12 .. 2026-11-10, Europe/Berlin) contains the 25-hour day of 2026-10-25.
"""

import itertools
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from typing import TYPE_CHECKING

from health_pipeline.registry import load_config
from health_pipeline.config import Config
from health_pipeline.instance.settings import apply_dagster_settings
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.dev.sandbox import sandbox_for
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld

if TYPE_CHECKING:
    from health_pipeline.dev.local_postgres import LocalPostgres
    from health_pipeline.providers.oauth import OAuthTokens

# The tests run with the Dagster settings every product process sets (the CLI would set them in
# this process at its first in-process call anyway, making results depend on the order of tests).
apply_dagster_settings()

FROZEN_NOW = datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc)
TODAY = date(2026, 11, 10)
WINDOW = (TODAY - timedelta(days=29), TODAY)
TIMEZONE = "Europe/Berlin"


@pytest.fixture
def world() -> SandboxWorld:
    return SandboxWorld(seed=7, days=60, timezone=TIMEZONE, clock=SandboxClock(FROZEN_NOW))


@pytest.fixture
def sandbox(world: SandboxWorld) -> Iterator[Sandbox]:
    with sandbox_for(world) as running:
        yield running


@pytest.fixture
def victoriametrics(tmp_path: Path) -> Iterator[LocalVictoriaMetrics]:
    with LocalVictoriaMetrics(tmp_path / "vm-data") as server:
        yield server


ConfigFactory = Callable[..., Config]


@pytest.fixture
def make_config(tmp_path: Path, sandbox: Sandbox) -> ConfigFactory:
    """Write a config file pointing at the sandbox (and optionally a VictoriaMetrics) and load it."""

    def make(vm_url: str | None = None, extra: str = "", name: str = "health-pipeline.toml") -> Config:
        oura = sandbox.url("oura")
        vm = f'[victoriametrics]\nenabled = true\nurl = "{vm_url}"\n' if vm_url else ""
        path = tmp_path / name
        path.write_text(
            f"""
[app]
timezone = "{TIMEZONE}"
user = "me"

[oura]
enabled = true
start_date = "{(TODAY - timedelta(days=59)).isoformat()}"
base_url = "{oura}"
authorize_url = "{oura}/oauth/authorize"
token_url = "{oura}/oauth/token"
client_id = "sandbox"
client_secret = "sandbox-secret"

{vm}
{extra}
""",
            encoding="utf-8",
        )
        path.chmod(0o600)
        return load_config(path)

    return make


@pytest.fixture
def oura_tokens(make_config: ConfigFactory) -> "OAuthTokens":
    """Oura tokens obtained through the sandbox's authorization-code flow, in a fresh raw store."""
    from health_pipeline.dev.demo import authorize_with_sandbox
    from health_pipeline.sources.oura import client as oura
    from health_pipeline.providers.oauth import OAuthTokens
    from health_pipeline.storage.raw_store import RawStore

    config = make_config()
    store = RawStore(config.app.raw_db)
    store.init()
    tokens = OAuthTokens(config.oura, store, oura.OAUTH)
    authorize_with_sandbox(tokens)
    return tokens


# ---- the fast tier ------------------------------------------------------------------------------
# `./test.sh -m "not slow"` runs the tests that need no sandbox server, no VictoriaMetrics, no
# PostgreSQL, no `dagster dev` and no Dagster run. A test is slow when it (or a fixture it uses)
# starts one of them; in the fast tier they refuse to start, so a misfiled test fails with a line
# saying so instead of quietly making the tier slow.

SLOW_FIXTURES = {"sandbox", "victoriametrics", "make_config", "oura_tokens"}
SLOW_CALLS = ("Sandbox(", "sandbox_for(", "LocalVictoriaMetrics(", "DagsterDev(", "LocalPostgres(", "LocalRedis(",
              "materialize_range(",
              "execute_in_process(", "run_demo(", "write_sandbox_config(", "main([", "subprocess.")


def _starts_components(item: pytest.Item) -> bool:
    import inspect

    if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    functions = [getattr(item, "function", None)]
    for defs in getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}).values():
        functions += [d.func for d in defs if d.baseid]  # the project's fixtures, not pytest's own
    for function in filter(None, functions):
        try:
            source = inspect.getsource(function)
        except (OSError, TypeError):
            continue
        if any(call in source for call in SLOW_CALLS):
            return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    slow = pytest.mark.slow
    for item in items:
        if "slow" not in item.keywords and _starts_components(item):
            item.add_marker(slow)


@pytest.fixture(autouse=True)
def _fast_tier_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a run without the slow tests, starting a real component is a misfiled test: say so."""
    if request.node.get_closest_marker("slow") or "not slow" not in (request.config.getoption("-m") or ""):
        return

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{request.node.nodeid} starts a real component: mark it slow")

    from health_pipeline.dev import dagster_dev, local_postgres, local_redis

    for target, name in ((Sandbox, "start"), (LocalVictoriaMetrics, "__enter__"),
                         (dagster_dev.DagsterDev, "__enter__"), (local_postgres.LocalPostgres, "__enter__"),
                         (local_redis.LocalRedis, "__enter__")):
        monkeypatch.setattr(target, name, refuse)


# ---- a PostgreSQL raw store ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator["LocalPostgres"]:
    """One throw-away PostgreSQL server for the session's raw store tests."""
    from health_pipeline.dev.local_postgres import LocalPostgres

    with LocalPostgres() as server:
        yield server


@pytest.fixture
def raw_postgres_url(postgres_server: "LocalPostgres", request: pytest.FixtureRequest) -> str:
    """A new, empty database on the session's server, as `[app] raw_db` names it (with a password,
    which the server's trust authentication ignores and nothing may ever show)."""
    name = "raw_" + re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[-50:] + f"_{next(_databases)}"
    return postgres_server.create_database(name).replace("dagster@", f"dagster:{RAW_DB_PASSWORD}@", 1)


RAW_DB_PASSWORD = "pg-s3cret-never-shown"
_databases = itertools.count()
