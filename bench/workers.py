"""Benchmark 12: 10 people on two workers against one (issue 34's Speed section).

A deployment over imitated machines (health_pipeline/dev/cluster.py): PostgreSQL (Dagster's history and
the raw store), Redis (broker, quota counters), the sandbox over HTTPS and VictoriaMetrics on this
machine's bridge address; `dagster dev` here; one `health-pipeline worker` on each imitated machine (a
network namespace). `--people` people in cohorts of `--cohort-size`, each authorised as themselves, Oura
over `--days` days; one run per cohort is queued at once, through the UI's API, and the time from the
first launch to the last run's end is measured, with each step's time by kind (landing, modelling,
export) and the time steps waited for a pool slot, from the runs' events.

Configurations: one worker; two workers with the pools as `init` sets them (one Oura client and one
tidy writer at a time, across every worker); two workers with two Oura clients (Oura's quotas are per
person, so two people may be fetched at once) and still one tidy writer.

Run: .venv/bin/python bench/workers.py [--people 10] [--cohort-size 5] [--days 30] [--only 1,2,2+]
"""

import argparse
import os
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg

from health_pipeline.dev.cluster import cluster, servers
from health_pipeline.dev.demo import authorize_with_sandbox
from health_pipeline.instance.home import register_pools
from health_pipeline.instance.internals import set_pool_limit
from health_pipeline.naming import COHORT_TAG, RANGE_END, RANGE_START, WORKER_TAG
from health_pipeline.people import add_person
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.registry import REGISTRY, load_config
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld
from health_pipeline.sources.oura.sandbox import FAKE as OURA_FAKE
from health_pipeline.sync import downstream_keys, raw_asset_keys

SEED = 2026
TIMEZONE = "Europe/Berlin"
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc)
BUSY = (dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED)
CONFIGURATIONS = {"1": (1, 1), "2": (2, 1), "2+": (2, 2)}  # name: (workers, Oura clients at once)


def until(check, what: str, timeout_s: float = 600.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.5)  # polling the instance with a deadline
    return result


@dataclass
class Figures:
    label: str
    wall_s: float = 0.0
    steps_s: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    waited_s: float = 0.0
    workers: set[str] = field(default_factory=set)
    runs: int = 0


def kind(step: str, raw: set[str]) -> str:
    if step in raw:
        return "landing"
    return "export" if step.startswith("export") else "modelling"


def step_times(instance: dg.DagsterInstance, run_id: str, raw: set[str], figures: Figures) -> None:
    """Add each step's time (start to success) by kind, and the run's time with no step running (waiting
    for a pool slot held by another run, starting step processes), from the run's events."""
    started: dict[str, float] = {}
    spans: list[tuple[float, float]] = []
    run_start = run_end = None
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.RUN_START:
            run_start = entry.timestamp
        elif event.event_type in (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE):
            run_end = entry.timestamp
        step = entry.step_key
        if step is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[step] = entry.timestamp
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS and step in started:
            figures.steps_s[kind(step, raw)] += entry.timestamp - started[step]
            spans.append((started[step], entry.timestamp))
    busy, reach = 0.0, float("-inf")
    for begin, finish in sorted(spans):  # the union of the steps' spans
        if finish > reach:
            busy += finish - max(begin, reach)
            reach = finish
    if run_start is not None and run_end is not None:
        figures.waited_s += max(0.0, (run_end - run_start) - busy)


def measure(root: Path, name: str, people: list[str], cohort_size: int, days: int) -> Figures:
    workers, oura_clients = CONFIGURATIONS[name]
    machines = [f"w{i}" for i in range(1, workers + 1)]
    world = SandboxWorld(seed=SEED, days=days + 30, timezone=TIMEZONE, clock=SandboxClock(NOW))
    end = NOW.date() - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    with servers(root, world, machines) as shared:
        path = root / "health-pipeline.toml"
        path.write_text(f'[app]\ntimezone = "{TIMEZONE}"\ncohort_size = {cohort_size}\n{shared.app_settings()}\n'
                        + OURA_FAKE.config_text(shared.sandbox.url("oura"), start - timedelta(days=7))
                        + f'[victoriametrics]\nenabled = true\nurl = "{shared.victoriametrics.url}"\n')
        path.chmod(0o600)
        os.environ.update(shared.env)  # this process reaches the sandbox over HTTPS, PostgreSQL, the broker
        config = load_config(path)
        store = config.raw_store()
        store.init()
        for person in people:
            add_person(config, store, person, timezone=shared.sandbox.world_for(person).timezone)
            authorize_with_sandbox(OAuthTokens(config.oura, store.for_person(person), REGISTRY.api("oura").oauth),
                                   login_hint=person)
        cohorts = sorted({f"c{i // cohort_size + 1:03d}" for i in range(len(people))})
        keys = [k.to_user_string() for k in raw_asset_keys(config, None) + downstream_keys(config)]
        raw = {k.to_python_identifier() for k in raw_asset_keys(config, None)}
        with cluster(shared, path) as running:
            register_pools(running.instance, REGISTRY.pools)
            set_pool_limit(running.instance, "oura_api", oura_clients)
            for machine in machines:
                until(lambda m=machine: running.answering(m), f"worker {machine}")
            until(running.ui.daemons_healthy, "the daemon")
            running.ui.stop_automation()
            until(lambda: not running.instance.get_runs(dg.RunsFilter(statuses=list(BUSY))), "automation's runs")
            began = time.perf_counter()
            run_ids = [running.ui.launch_assets(keys, {RANGE_START: start.isoformat(), RANGE_END: end.isoformat(),
                                                       COHORT_TAG: cohort}) for cohort in cohorts]

            def done() -> list[dg.DagsterRun]:
                runs = [running.instance.get_run_by_id(r) for r in run_ids]
                return [] if any(r is None or r.status in BUSY for r in runs) else runs  # type: ignore[misc]

            runs = until(done, "the runs", 3600)
            figures = Figures(f"{len(people)} people, {len(cohorts)} cohort runs, {workers} worker(s), "
                              f"{oura_clients} Oura client(s) at once")
            launch_to_end = time.perf_counter() - began
            failed = [r.run_id for r in runs if r.status != dg.DagsterRunStatus.SUCCESS]
            if failed:
                raise SystemExit(f"{name}: runs failed: {failed}\n{running.workers.tail()}")
            for r in runs:
                step_times(running.instance, r.run_id, raw, figures)
                figures.workers.add(r.tags.get(WORKER_TAG, "?"))
            figures.runs = len(runs)
            figures.wall_s = launch_to_end
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--cohort-size", type=int, default=5)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--only", default="1,2,2+")
    args = parser.parse_args()
    people = [f"p{i:03d}" for i in range(1, args.people + 1)]
    print("| configuration | launch to last end | landing | modelling | export | run time with no step running | workers used |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in args.only.split(","):
        with tempfile.TemporaryDirectory(prefix="bench-workers-") as root:
            f = measure(Path(root), name, people, args.cohort_size, args.days)
        print(f"| {f.label} | {f.wall_s:.0f} s | {f.steps_s['landing']:.0f} s | {f.steps_s['modelling']:.0f} s | "
              f"{f.steps_s['export']:.0f} s | {f.waited_s:.0f} s | {len(f.workers)} |", flush=True)


if __name__ == "__main__":
    main()
