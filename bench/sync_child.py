"""The timed child of the end-to-end benchmarks (bench/harness.py): one `materialize_range` of every
asset over [start, end], as `health-pipeline sync --start --end` makes it, in its own process.

Prints one JSON line: the run's time, the time spent in HTTP requests (fetch) and in waiting for a
provider's quota, the time from the run's start to its first step and from its last step to its
end, the per-group step durations read back from the Dagster instance, the import time, and the
export asset's metadata. Reading the durations back is not timed.
Run by the harness: sync_child.py CONFIG DAGSTER_HOME START END
(with HEALTH_BENCH_PROFILE=FILE, a cProfile of the run's main thread is written to FILE)
"""

import json
import os
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dagster as dg  # noqa: E402

from health_pipeline.registry import load_config  # noqa: E402
from health_pipeline.instance.settings import apply_dagster_settings  # noqa: E402
from health_pipeline.pipeline.build import build_definitions  # noqa: E402
from health_pipeline.dev.demo import all_asset_keys  # noqa: E402
from health_pipeline.instance.home import instance_in  # noqa: E402
from health_pipeline.providers import http  # noqa: E402
from health_pipeline.sync import materialize_range  # noqa: E402

IMPORTS_S = time.perf_counter() - STARTED


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main(config_path: str, home: str, start: str, end: str) -> None:
    apply_dagster_settings()  # as the CLI does; the harness may have set them off
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
        began, began_at = time.perf_counter(), time.time()
        result = materialize_range(config, instance, all_asset_keys(config), date.fromisoformat(start),
                                   date.fromisoformat(end))
        run_s, ended_at = time.perf_counter() - began, time.time()
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
                step_began = started.pop(key)
                steps[group] = steps.get(group, 0.0) + entry.timestamp - step_began
                spans.append((key, step_began, entry.timestamp))
    export = result.metadata.get("export_victoriametrics", {})
    peak_at, peak = max(samples, key=lambda s: s[1]) if samples else (0.0, 0)
    peak_step = next((k for k, a, b in spans if a <= peak_at <= b), "between steps")
    run_start_s = min(a for _, a, _ in spans) - began_at if spans else 0.0
    run_end_s = ended_at - max(b for _, _, b in spans) if spans else 0.0
    print(json.dumps({"run_s": run_s, **spent, "steps": steps, "run_id": result.run_id, "peak_step": peak_step,
                      "imports_s": IMPORTS_S, "run_start_s": run_start_s, "run_end_s": run_end_s,
                      "export": {k: v for k, v in export.items() if isinstance(v, int)}}))


if __name__ == "__main__":
    if os.environ.get("HEALTH_BENCH_PROFILE"):  # a cProfile of the run's main thread, to that file
        import cProfile

        cProfile.run("main(*sys.argv[1:5])", os.environ["HEALTH_BENCH_PROFILE"])
    else:
        main(*sys.argv[1:5])
