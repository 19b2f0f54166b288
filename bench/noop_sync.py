"""Benchmark 5: what a sync costs when nothing changed at any provider.

After a backfill of `--days` of every provider (not measured), with the sandbox's clock frozen so
nothing new or revised appears:
- `health-pipeline sync` as a user or cron runs it (its own process): Oura and Fitbit over the due
  range (yesterday and today, as the `recent_days` schedule asks every 15 minutes), Withings and
  Hevy from their watermarks (at most one request per change-driven resource is the target), and
  the samples the export writes to VictoriaMetrics (none expected): requests and wall time;
- one tick of each change sensor (Withings, Hevy), as the daemon evaluates them: requests and time;
- the whole backfill range again (a user re-running a backfill): requests, time, and the samples
  the export writes to VictoriaMetrics (none expected).
Run: .venv/bin/python bench/noop_sync.py [--days 90]
"""

import argparse
import os
import subprocess
import sys
import time
from collections import Counter

import dagster as dg

from harness import Bench, by_provider, is_data_request, requests_by_provider

from health_pipeline.pipeline.resources import resources_for
from health_pipeline.instance.home import instance_in
from health_pipeline.sources.withings import client as withings
from health_pipeline.pipeline.selection import change_keys_by_source
from health_pipeline.pipeline.cursor import build_cursor_sensor
from health_pipeline.registry import REGISTRY

withings_changes = build_cursor_sensor(REGISTRY.api("withings"))
hevy_changes = build_cursor_sensor(REGISTRY.api("hevy"))

CHANGE_RESOURCES = sum(len(keys) for keys in change_keys_by_source(REGISTRY).values())  # Withings 4, Hevy 1
# The change-driven requests: Withings' four services (not its optional daily intraday data) and Hevy's workouts.
CHANGE_ACTIONS = {endpoint.action for endpoint in withings.CATALOGUE.values()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    lines: list[str] = []
    with Bench(args.days, quotas=False) as bench:
        bench.run_child()
        log = bench.sandbox.log

        log.clear()
        began = time.perf_counter()
        cli = subprocess.run([sys.executable, "-m", "health_pipeline.cli", "--config", str(bench.config.path), "sync"],
                             env={**os.environ, "DAGSTER_HOME": str(bench.home)}, capture_output=True, text=True)
        sync_s = time.perf_counter() - began
        if cli.returncode != 0:
            raise SystemExit(f"health-pipeline sync failed ({cli.returncode}): {cli.stderr.strip()}")
        sync_requests = requests_by_provider(log.entries())
        exported = next((line.strip() for line in cli.stdout.splitlines() if "export_victoriametrics" in line), "")
        written = sum(int(part.split("=")[1]) for part in exported.replace(",", " ").split()
                      if part.startswith(("samples_appended=", "samples_rewritten=")))
        change_driven = dict(Counter(e.provider for e in log.entries() if is_data_request(e) and (
            e.params.get("action") in CHANGE_ACTIONS or "/v1/workouts" in e.path)))
        lines.append(f"health-pipeline sync (due: yesterday and today): {sum(sync_requests.values())} requests "
                     f"({by_provider(sync_requests)}), {sync_s:.1f} s wall; VictoriaMetrics: {written} samples written")
        lines.append(f"  change-driven: {by_provider(change_driven)} requests for {CHANGE_RESOURCES} resources "
                     f"(target: at most one each)")
        lines.append(f"  {exported[:160]}")

        tick_requests: dict[str, int] = {}
        resources = resources_for(bench.config)
        with instance_in(bench.home) as instance:
            for sensor in (withings_changes, hevy_changes):
                log.clear()
                began = time.perf_counter()
                with dg.build_sensor_context(instance=instance, resources=resources) as context:
                    result = sensor(context)
                tick_s = time.perf_counter() - began
                assert isinstance(result, dg.SensorResult)
                if result.run_requests:
                    raise SystemExit(f"{sensor.name} asked for a run although nothing changed")
                ticks = requests_by_provider(log.entries())
                tick_requests[sensor.name] = sum(ticks.values())
                lines.append(f"{sensor.name} tick: {sum(ticks.values())} requests, {tick_s * 1000:.0f} ms, "
                             f"skipped: {result.skip_reason.skip_message if result.skip_reason else '?'}")

        log.clear()
        again = bench.run_child()
        rerun_requests = requests_by_provider(log.entries())
        export = again["export"]
        lines.append(f"the {args.days}-day backfill again: {sum(rerun_requests.values())} requests, "
                     f"{again['wall_s']:.1f} s wall; VictoriaMetrics: {export.get('samples_appended')} appended, "
                     f"{export.get('samples_rewritten')} rewritten, {export.get('samples_unchanged')} unchanged")
    print("\n".join(lines))
    print(f"no-op sync: {sum(sync_requests.values())} requests ({sum(change_driven.values())} for the "
          f"{CHANGE_RESOURCES} change-driven resources), {written} samples written and {sync_s:.1f} s for "
          "`health-pipeline sync`; "
          f"sensor ticks {', '.join(f'{n} {c}' for n, c in tick_requests.items())} requests; a repeated {args.days}-day backfill {sum(rerun_requests.values())} requests, "
          f"{again['wall_s']:.1f} s, {export.get('samples_appended', 0) + export.get('samples_rewritten', 0)} samples written")


if __name__ == "__main__":
    main()
