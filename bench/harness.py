"""Shared set-up for the end-to-end benchmarks: a sandbox world, a local VictoriaMetrics, a config,
a Dagster home (SQLite or a local PostgreSQL, our event log or Dagster's stock one, the Dagster
settings on or off), and a sync run in a child process (`sync_child.py`, so its wall time includes
starting Python and Dagster, and its peak RSS is the pipeline's own, not the sandbox's world).

The home is created, with its pools, before the timed run, as `health-pipeline init` does.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from health_pipeline.config import Config  # noqa: E402
from health_pipeline.instance.settings import DAGSTER_SETTINGS  # noqa: E402
from health_pipeline.dev.demo import sandbox_config_text, write_sandbox_config  # noqa: E402
from health_pipeline.instance.home import POSTGRES_URL_ENV, STORAGE_BLOCK, instance_in, instance_settings, register_pools  # noqa: E402
from health_pipeline.dev.local_postgres import LocalPostgres  # noqa: E402
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics  # noqa: E402
from health_pipeline.registry import REGISTRY  # noqa: E402
from health_pipeline.sandbox.http import LoggedRequest  # noqa: E402
from health_pipeline.dev.sandbox import sandbox_for
from health_pipeline.sandbox.server import Sandbox  # noqa: E402
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld  # noqa: E402

TIMEZONE = "Europe/Berlin"
SEED = 2026
PROVIDER_SECTIONS = ("oura", "fitbit", "withings", "hevy")
UNLIMITED = 1_000_000  # requests per minute: quotas out of the way, to measure the pipeline itself
# Requests that are OAuth, not data: left out of request counts and of the bare replay.
SETTINGS_OFF = {"DAGSTER_EVENT_BATCH_SIZE": "0", "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "false"}
OAUTH_PATHS = {"/oauth/token", "/oauth/authorize", "/token", "/o/oauth2/v2/auth", "/oauth2_user/authorize2"}


def is_data_request(entry: LoggedRequest) -> bool:
    """Whether a logged request fetched data (not OAuth), and was answered."""
    return entry.status != 0 and entry.path not in OAUTH_PATHS and entry.params.get("action") != "requesttoken"


def requests_by_provider(entries: list[LoggedRequest]) -> Counter[str]:
    return Counter(e.provider for e in entries if is_data_request(e))


def by_provider(counts: dict[str, int]) -> str:
    """`google-health 20, oura 15`: request counts for a figure line."""
    return ", ".join(f"{provider} {n}" for provider, n in sorted(counts.items()))


@dataclass
class Bench:
    """A sandbox holding `days` of history for all four providers, VictoriaMetrics, a config and a
    Dagster home, all under one temporary directory.

    `instance`: "sqlite" (files in the home) or "postgres" (a local server, dagster-postgres);
    `event_log`: "pooled" (health_pipeline/dagster_storage.py) or "stock" (Dagster's SQLite one);
    `dagster_settings`: the settings of health_pipeline/dagster_settings.py, or both off.
    """

    days: int
    quotas: bool
    instance: str = "sqlite"
    event_log: str = "pooled"
    dagster_settings: bool = True
    stack: ExitStack = field(default_factory=ExitStack)

    @property
    def variant(self) -> str:
        """`SQLite, pooled event log, settings on`: what this bench's home is, for figure lines."""
        storage = "Postgres" if self.instance == "postgres" else f"SQLite, {self.event_log} event log"
        return f"{storage}, Dagster settings {'on' if self.dagster_settings else 'off'}"

    def __enter__(self) -> "Bench":
        now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
        self.world = SandboxWorld(seed=SEED, days=self.days + 3, timezone=TIMEZONE, clock=SandboxClock(now))
        self.end = now.astimezone(self.world.tz).date()
        self.start = self.end - timedelta(days=self.days - 1)
        self.root = Path(self.stack.enter_context(tempfile.TemporaryDirectory(prefix="health-bench-")))
        self.sandbox = self.stack.enter_context(sandbox_for(self.world))
        if not self.quotas:
            self.sandbox.google_health.settings.rate_limit_per_minute = UNLIMITED
            self.sandbox.withings.settings.rate_limit_per_minute = UNLIMITED
            self.sandbox.oura.settings.rate_limit = UNLIMITED
        self.vm = LocalVictoriaMetrics(self.root / "vm")
        self.vm.start()
        self.stack.callback(self.vm.stop)
        text = sandbox_config_text(self.sandbox, self.start, TIMEZONE, "bench", self.vm.url)
        text = text.replace('data/raw.sqlite', str(self.root / "raw.sqlite"))
        text = text.replace('data/health.duckdb', str(self.root / "health.duckdb"))
        if not self.quotas:
            for section in PROVIDER_SECTIONS:
                text = text.replace(f"[{section}]\n", f"[{section}]\nrequests_per_minute = {UNLIMITED}\n", 1)
        self.config: Config = write_sandbox_config(self.root / "health-pipeline.toml", text)
        self.home = self.root / "dagster_home"
        self.child_env = {**os.environ, **(DAGSTER_SETTINGS if self.dagster_settings else SETTINGS_OFF)}
        self._make_home()
        return self

    def _make_home(self) -> None:
        """The Dagster home and its pools, as `health-pipeline init` makes them (not timed)."""
        settings = instance_settings(self.home, postgres=self.instance == "postgres")
        if self.instance == "postgres":
            postgres = self.stack.enter_context(LocalPostgres())
            self.child_env[POSTGRES_URL_ENV] = os.environ[POSTGRES_URL_ENV] = postgres.url  # this process's too
            self.stack.callback(os.environ.pop, POSTGRES_URL_ENV, None)
        elif self.event_log == "stock":
            settings = STORAGE_BLOCK.sub("", settings)  # Dagster's own SqliteEventLogStorage
        self.home.mkdir(parents=True)
        (self.home / "dagster.yaml").write_text(settings, encoding="utf-8")
        with instance_in(self.home) as instance:
            register_pools(instance, REGISTRY.pools)

    def __exit__(self, *exc: object) -> None:
        self.stack.close()

    def run_child(self, start: date | None = None, end: date | None = None) -> dict[str, Any]:
        """Sync every asset over [start, end] (default: the whole history) in a child process."""
        start, end = start or self.start, end or self.end
        out = self.root / "child.out"
        began = time.perf_counter()
        with out.open("w") as stdout:
            process = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve().parent / "sync_child.py"), str(self.config.path),
                 str(self.home), start.isoformat(), end.isoformat()], stdout=stdout, env=self.child_env,
            )
            _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - began
        if process.returncode != 0:
            raise SystemExit(f"the sync child failed with exit status {process.returncode}")
        figures = json.loads(out.read_text().strip().splitlines()[-1])
        figures.update(wall_s=wall, peak_rss_mib=usage.ru_maxrss / 1024)
        return figures
