"""Shared set-up for the end-to-end benchmarks: a sandbox world, a local VictoriaMetrics, a config,
and a sync run in a child process (so its wall time includes starting Python and Dagster, and its
peak RSS is the pipeline's own, not the sandbox's generated world).

The child prints one JSON line: the run's time, the time spent in HTTP requests (fetch) and in
waiting for a provider's quota, the per-group step durations read back from the Dagster instance,
and the export asset's metadata.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from health_pipeline.config import Config  # noqa: E402
from health_pipeline.demo import sandbox_config_text, write_sandbox_config  # noqa: E402
from health_pipeline.local_victoriametrics import LocalVictoriaMetrics  # noqa: E402
from health_pipeline.sandbox.http import LoggedRequest  # noqa: E402
from health_pipeline.sandbox.server import Sandbox  # noqa: E402
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld  # noqa: E402

TIMEZONE = "Europe/Berlin"
SEED = 2026
PROVIDER_SECTIONS = ("oura", "fitbit", "withings", "hevy")
UNLIMITED = 1_000_000  # requests per minute: quotas out of the way, to measure the pipeline itself
# Requests that are OAuth, not data: left out of request counts and of the bare replay.
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
    Dagster home, all under one temporary directory."""

    days: int
    quotas: bool
    stack: ExitStack = field(default_factory=ExitStack)

    def __enter__(self) -> "Bench":
        now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
        self.world = SandboxWorld(seed=SEED, days=self.days + 3, timezone=TIMEZONE, clock=SandboxClock(now))
        self.end = now.astimezone(self.world.tz).date()
        self.start = self.end - timedelta(days=self.days - 1)
        self.root = Path(self.stack.enter_context(tempfile.TemporaryDirectory(prefix="health-bench-")))
        self.sandbox = self.stack.enter_context(Sandbox(self.world))
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
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()

    def run_child(self, start: date | None = None, end: date | None = None) -> dict[str, Any]:
        """Sync every asset over [start, end] (default: the whole history) in a child process."""
        start, end = start or self.start, end or self.end
        out = self.root / "child.out"
        began = time.perf_counter()
        with out.open("w") as stdout:
            process = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), str(self.config.path), str(self.home),
                 start.isoformat(), end.isoformat()], stdout=stdout,
            )
            _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - began
        if process.returncode != 0:
            raise SystemExit(f"the sync child failed with exit status {process.returncode}")
        figures = json.loads(out.read_text().strip().splitlines()[-1])
        figures.update(wall_s=wall, peak_rss_mib=usage.ru_maxrss / 1024)
        return figures


def _child(config_path: str, home: str, start: str, end: str) -> None:
    """Run in the child: one `materialize_range` of every asset, timed from the inside."""
    import dagster as dg

    from health_pipeline.config import load_config
    from health_pipeline.defs.build import build_definitions
    from health_pipeline.demo import all_asset_keys
    from health_pipeline.instance import instance_in, register_pools
    from health_pipeline.providers import http
    from health_pipeline.sync import materialize_range

    spent = {"fetch_s": 0.0, "quota_wait_s": 0.0, "requests": 0}
    request, take = http.ProviderHTTP.request, http.RequestBudget.take

    def timed_request(self: http.ProviderHTTP, *args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return request(self, *args, **kwargs)
        finally:
            spent["fetch_s"] += time.perf_counter() - began
            spent["requests"] += 1

    def timed_take(self: http.RequestBudget) -> None:
        began = time.perf_counter()
        try:
            take(self)
        finally:
            spent["quota_wait_s"] += time.perf_counter() - began

    samples: list[tuple[float, int]] = []  # (time, RSS bytes) every 50 ms: where the peak happens
    sampling = threading.Event()

    def sample_rss() -> None:
        while not sampling.wait(0.05):
            samples.append((time.time(), _rss_bytes()))

    threading.Thread(target=sample_rss, daemon=True).start()
    http.ProviderHTTP.request = timed_request  # type: ignore[method-assign]
    http.RequestBudget.take = timed_take  # type: ignore[method-assign]
    config = load_config(Path(config_path))
    groups = {key.to_python_identifier(): group for asset in build_definitions(config).assets or []
              for key, group in asset.group_names_by_key.items()}  # type: ignore[union-attr]
    with instance_in(Path(home)) as instance:
        register_pools(instance)
        began = time.perf_counter()
        result = materialize_range(config, instance, all_asset_keys(config), date.fromisoformat(start),
                                   date.fromisoformat(end))
        run_s = time.perf_counter() - began
        sampling.set()
        steps: dict[str, float] = {}
        started: dict[str, float] = {}
        spans: list[tuple[str, float, float]] = []
        types = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS}
        for entry in instance.all_logs(result.run_id, of_type=types):
            key = entry.step_key or ""
            if entry.dagster_event and entry.dagster_event.event_type == dg.DagsterEventType.STEP_START:
                started[key] = entry.timestamp
            elif key in started:
                group = groups.get(key, "other")
                began_at = started.pop(key)
                steps[group] = steps.get(group, 0.0) + entry.timestamp - began_at
                spans.append((key, began_at, entry.timestamp))
    export = result.metadata.get("export_victoriametrics", {})
    peak_at, peak = max(samples, key=lambda s: s[1]) if samples else (0.0, 0)
    peak_step = next((k for k, a, b in spans if a <= peak_at <= b), "between steps")
    print(json.dumps({"run_s": run_s, **spent, "steps": steps, "run_id": result.run_id, "peak_step": peak_step,
                      "export": {k: v for k, v in export.items() if isinstance(v, int)}}))


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


if __name__ == "__main__":
    _child(*sys.argv[1:5])
