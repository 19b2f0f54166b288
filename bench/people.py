"""Benchmark 11: what people cost (issue 34's Speed section).

1. Cost per person-day: 1, 10 and 50 people x `--days` of Oura (the sandbox, each person their own world
   and time zone, `login_hint=<person>`), one `materialize_range` run of every asset over the range for
   everyone, in its own process as `health-pipeline sync --start --end` runs it; for 10 people also one
   run per person (`health/people=<id>`), one after the other. For each: data requests (the sandbox's
   log), wall time, Dagster's bookkeeping (the run's event-log rows and their bytes in the SQLite
   history, plus the index database's rows for the run; materializations recorded) and the run
   process's peak RSS. The issue's target: 50 people cost at most 1.2 x 50 one-person runs.
2. The automation tick: `--tick-people` people (500) added to the raw store's `people` table with
   `add_person`, their last 7 days landed (one run), then one evaluation of each schedule and sensor of
   the definitions against the real instance, timed (target: under 5 s each); once with Oura, once with
   Withings (whose cursor sensor asks each person's provider).
3. Two runs of 5 (cohorts `c001`, `c002`, two processes at once) against one run of 10, same days.

Every deployment is fresh (raw store, DuckDB, Dagster home with its pools, VictoriaMetrics); one
sandbox serves them all, on loopback. Provider quotas stay as they are (Oura: 5000 requests per
5 minutes per person; the client allows itself 1000 a minute), far from what these runs ask.
Run: .venv/bin/python bench/people.py [--quick] [--days 365] [--people 1,10,50] [--cohort-days 90]
     [--tick-people 500] [--tick-sources "oura;withings"] [--only cost,tick,cohorts]
"""

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from harness import is_data_request

from health_pipeline.config import Config
from health_pipeline.dev.demo import authorize_with_sandbox
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.dev.sandbox import sandbox_for
from health_pipeline.instance.home import instance_in, instance_settings, register_pools
from health_pipeline.instance.settings import DAGSTER_SETTINGS
from health_pipeline.people import add_person
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.registry import REGISTRY, load_config
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld
from health_pipeline.sources.oura.sandbox import FAKE as OURA_FAKE
from health_pipeline.sources.withings.sandbox import FAKE as WITHINGS_FAKE
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.tidy.models import create_tables

SEED = 2026
TIMEZONE = "Europe/Berlin"
TICK_DAYS = 7
FAKES = {"oura": OURA_FAKE, "withings": WITHINGS_FAKE}
UNLIMITED = 1_000_000  # requests per minute: a quota lifted, to measure the pipeline itself


def person_ids(count: int) -> list[str]:
    return [f"p{i:03d}" for i in range(1, count + 1)]


@dataclass
class Figures:
    """One measured run (or several, added up): what it asked, took and recorded."""

    label: str
    people: int
    days: int
    requests: int = 0
    wall_s: float = 0.0
    events: int = 0
    event_bytes: int = 0
    index_events: int = 0
    materializations: int = 0
    cpu_s: float = 0.0  # the run process's user and system time: what the machine's load does not stretch
    peak_rss_mib: float = 0.0
    runs: int = 0

    @property
    def person_days(self) -> int:
        return self.people * self.days

    def add(self, other: "Figures") -> None:
        self.requests += other.requests
        self.wall_s += other.wall_s
        self.cpu_s += other.cpu_s
        self.events += other.events
        self.event_bytes += other.event_bytes
        self.index_events += other.index_events
        self.materializations += other.materializations
        self.peak_rss_mib = max(self.peak_rss_mib, other.peak_rss_mib)
        self.runs += other.runs


class Deployment:
    """A fresh deployment under `root`: Oura against the sandbox, VictoriaMetrics, people in the raw store
    (each authorised as themselves), and a Dagster home with its pools, as `health-pipeline init` makes it."""

    def __init__(self, stack: ExitStack, sandbox: Sandbox, root: Path, people: list[str], start: date,
                 cohort_size: int = 1, sources: tuple[str, ...] = ("oura",), unlimited: bool = False) -> None:
        self.sandbox, self.root, self.people = sandbox, root, people
        self._outputs: dict[int, Path] = {}  # a running sync's pid -> the file its output goes to
        root.mkdir(parents=True)
        vm = LocalVictoriaMetrics(root / "vm")
        vm.start()
        stack.callback(vm.stop)
        path = root / "health-pipeline.toml"
        path.write_text(
            f'[app]\nraw_db = "{root / "raw.sqlite"}"\nduckdb = "{root / "health.duckdb"}"\n'
            f'timezone = "{TIMEZONE}"\ncohort_size = {cohort_size}\n\n'
            + "".join(FAKES[s].config_text(sandbox.url(s), start).replace(
                f"[{s}]\n", f"[{s}]\nrequests_per_minute = {UNLIMITED}\n" if unlimited else f"[{s}]\n")
                .replace("intraday = true", "intraday = false")  # Withings' per-minute days: no sensor reads them
                for s in sources)
            + f'[victoriametrics]\nenabled = true\nurl = "{vm.url}"\n', encoding="utf-8")
        path.chmod(0o600)
        self.config: Config = load_config(path)
        store = self.config.raw_store()
        store.init()
        with TidyStore(self.config.app.duckdb).connect() as conn:
            create_tables(conn)
        for person in people:
            add_person(self.config, store, person, timezone=sandbox.world_for(person).timezone)
            for source in sources:
                authorize_with_sandbox(OAuthTokens(self.config.provider(source), store.for_person(person),
                                                   REGISTRY.api(source).oauth), login_hint=person)
        self.home = root / "dagster_home"
        self.home.mkdir()
        (self.home / "dagster.yaml").write_text(instance_settings(self.home), encoding="utf-8")
        with instance_in(self.home) as instance:
            register_pools(instance, REGISTRY.pools)

    def start_run(self, start: date, end: date, tags: dict[str, str] | None = None,
                  what: str = "all") -> subprocess.Popen[bytes]:
        """The sync over [start, end] in its own process (see `child`; `what="raw"`: the landing assets only)."""
        out = self.root / f"child-{time.monotonic_ns()}.out"
        with out.open("w") as stdout:
            process = subprocess.Popen(
                [sys.executable, __file__, "child", str(self.config.path), str(self.home), start.isoformat(),
                 end.isoformat(), json.dumps(tags or {}), what],
                stdout=stdout, env={**os.environ, **DAGSTER_SETTINGS})
        self._outputs[process.pid] = out
        return process

    def finish(self, process: subprocess.Popen[bytes], label: str, people: int, days: int, began: float,
               asked_before: int, allow_failure: bool = False) -> Figures:
        """Wait for a run started with `start_run` and measure it (requests: those the sandbox logged since
        `asked_before` entries, so concurrent runs share them; pass `asked_before=-1` to leave them out)."""
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - began
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{label}: the sync process failed (exit status {os.waitstatus_to_exitcode(status)})")
        result = json.loads(self._outputs.pop(process.pid).read_text().strip().splitlines()[-1])
        if result.get("failed"):
            if not allow_failure:
                raise SystemExit(f"{label}: {result['failed']}")
            print(f"{label}: {result['failed'][:300]} (the others' data is landed)", flush=True)
        figures = Figures(label, people, days, wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime,
                          peak_rss_mib=usage.ru_maxrss / 1024, runs=1)
        if asked_before >= 0:
            figures.requests = sum(1 for e in self.sandbox.log.entries()[asked_before:] if is_data_request(e))
        figures.events, figures.event_bytes, figures.materializations, figures.index_events = self.bookkeeping(
            result["run_id"])
        return figures

    def bookkeeping(self, run_id: str) -> tuple[int, int, int, int]:
        """The run's event-log rows, their bytes and materializations (its own database), and the rows the
        index database holds for it (materializations and run-level events are written there too)."""
        runs = self.home / "history" / "runs"
        with sqlite3.connect(runs / f"{run_id}.db") as conn:
            rows, size, materialized = conn.execute(
                "SELECT count(*), sum(length(event)), sum(dagster_event_type = 'ASSET_MATERIALIZATION') "
                "FROM event_logs").fetchone()
        with sqlite3.connect(runs / "index.db") as conn:
            (indexed,) = conn.execute("SELECT count(*) FROM event_logs WHERE run_id = ?", (run_id,)).fetchone()
        return rows, size, materialized or 0, indexed


def measure_run(deployment: Deployment, label: str, people: int, start: date, end: date,
                tags: dict[str, str] | None = None, what: str = "all", allow_failure: bool = False) -> Figures:
    asked = len(deployment.sandbox.log.entries())
    began = time.perf_counter()
    process = deployment.start_run(start, end, tags, what)
    return deployment.finish(process, label, people, (end - start).days + 1, began, asked, allow_failure)


def cost_per_person_day(stack: ExitStack, sandbox: Sandbox, root: Path, counts: list[int], start: date,
                        end: date, each: int = 10) -> list[Figures]:
    """Benchmark 11.1: one run for everyone per count; for `each` people, one run per person too."""
    results = []
    for count in counts:
        deployment = Deployment(stack, sandbox, root / f"everyone-{count}", person_ids(count), start)
        figures = measure_run(deployment, f"{count} people, one run", count, start, end)
        results.append(figures)
        print(row(figures, results[0]), flush=True)
        if count == each:
            deployment = Deployment(stack, sandbox, root / f"each-of-{count}", person_ids(count), start)
            each = Figures(f"{count} people, a run each", count, figures.days)
            for person in deployment.people:
                one = measure_run(deployment, person, 1, start, end, {"health/people": person})
                each.add(one)
            results.append(each)
            print(row(each, results[0]), flush=True)
    return results


HEADER = (f"{'runs':<30} {'person-days':>11} {'requests':>8} {'/p-day':>7} {'wall s':>8} {'cpu s':>7} {'s/p-day':>8} "
          f"{'events':>7} {'MiB':>6} {'index':>6} {'mats':>6} {'x one':>6} {'peak RSS':>9}")


def row(f: Figures, one: Figures) -> str:
    """A table line (`s/p-day`: CPU seconds per person-day); `x one`: the bookkeeping (event rows) per person-day against the first measurement's."""
    per = f.person_days
    ratio = (f.events / per) / (one.events / one.person_days) if one.events else 0.0
    return (f"{f.label:<30} {per:>11} {f.requests:>8} {f.requests / per:>7.3f} {f.wall_s:>8.1f} {f.cpu_s:>7.1f} "
            f"{f.cpu_s / per:>8.3f} {f.events:>7} {f.event_bytes / 2**20:>6.1f} {f.index_events:>6} "
            f"{f.materializations:>6} {ratio:>6.3f} {f.peak_rss_mib:>8.0f}M")


def automation_tick(stack: ExitStack, sandbox: Sandbox, root: Path, count: int, today: date,
                    sources: tuple[str, ...]) -> list[tuple[str, float, str]]:
    """Benchmark 11.2: `count` people, their last week of `sources` landed, then one evaluation of each
    schedule and sensor. Withings' quota (120 requests a minute per application, for everyone) is lifted in
    the sandbox and the client: its cursor sensor asks each person once per resource."""
    import dagster as dg

    from health_pipeline.pipeline.build import build_definitions
    from health_pipeline.pipeline.resources import resources_for

    start = today - timedelta(days=TICK_DAYS - 1)
    began = time.perf_counter()
    unlimited = "withings" in sources
    if unlimited:
        sandbox.withings.settings.rate_limit_per_minute = UNLIMITED
    deployment = Deployment(stack, sandbox, root / f"tick-{count}-{'-'.join(sources)}", person_ids(count), start,
                            sources=sources, unlimited=unlimited)
    print(f"{count} people added (add_person) and authorised (login_hint) in {time.perf_counter() - began:.1f} s", flush=True)
    # landing only: what the sensors read is the raw store and the instance (modelling would add about 6 s of
    # fixed DuckDB work per person, see the README)
    # the sandbox's Withings answers 500 to some people's sleep summaries: the tick reads the others' state
    synced = measure_run(deployment, f"{count} people x {TICK_DAYS} days, raw", count, start, today, what="raw",
                         allow_failure=True)
    print(HEADER)
    print(row(synced, synced), flush=True)
    config = deployment.config
    timings = []
    with instance_in(deployment.home) as instance:
        began = time.perf_counter()
        defs = build_definitions(config)
        timings.append(("build the definitions", time.perf_counter() - began, ""))
        repository = defs.get_repository_def()
        now = datetime.now(timezone.utc)
        for schedule in repository.schedule_defs:
            asked = len(sandbox.log.entries())
            began = time.perf_counter()
            with dg.build_schedule_context(instance=instance, scheduled_execution_time=now) as context:
                data = schedule.evaluate_tick(context)
            seconds = time.perf_counter() - began
            timings.append((f"schedule {schedule.name}", seconds,
                            f"{len(data.run_requests or [])} run(s), {len(sandbox.log.entries()) - asked} requests"))
        for sensor in repository.sensor_defs:
            asked = len(sandbox.log.entries())
            began = time.perf_counter()
            with dg.build_sensor_context(instance=instance, resources=resources_for(config),
                                         repository_def=repository) as context:
                data = sensor.evaluate_tick(context)
            seconds = time.perf_counter() - began
            said = data.skip_message or f"{len(data.run_requests or [])} run(s)"
            timings.append((f"sensor {sensor.name}", seconds,
                            f"{said[:70]}; {len(sandbox.log.entries()) - asked} requests"))
    return timings


def two_cohorts(stack: ExitStack, sandbox: Sandbox, root: Path, start: date, end: date,
                count: int = 10) -> list[Figures]:
    """Benchmark 11.3: `count` people as one run, then as two runs of half (two cohorts) in two processes at once."""
    people, half = person_ids(count), count // 2
    one = measure_run(Deployment(stack, sandbox, root / "as-one", people, start, cohort_size=half),
                      f"{count} people, one run", count, start, end)
    deployment = Deployment(stack, sandbox, root / "as-two", people, start, cohort_size=half)
    asked = len(sandbox.log.entries())
    began = time.perf_counter()
    processes = [deployment.start_run(start, end, {"health/cohort": c}) for c in ("c001", "c002")]
    halves = [deployment.finish(p, f"cohort {c}", half, one.days, began, -1)
              for p, c in zip(processes, ("c001", "c002"))]
    both = Figures(f"{count} people, two runs of {half} at once", count, one.days,
                   requests=sum(1 for e in sandbox.log.entries()[asked:] if is_data_request(e)))
    for half in halves:
        both.add(half)
    both.wall_s = time.perf_counter() - began  # the two ran at once: the later one's end
    return [one, *halves, both]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a check that it works: 1 and 3 people x 7 days (3 "
                        "also a run each), 20 people for the tick, 4 people x 7 days in two cohorts")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--people", default="1,10,50", help="the people counts of part 1")
    parser.add_argument("--cohort-days", type=int, default=90, help="the days of part 3")
    parser.add_argument("--tick-people", type=int, default=500)
    parser.add_argument("--tick-sources", default="oura;withings",
                        help="the deployments of part 2, `;` between them, `,` between a deployment's sources")
    parser.add_argument("--only", default="cost,tick,cohorts")
    args = parser.parse_args()
    if args.quick:
        args.days, args.people, args.cohort_days, args.tick_people = 7, "1,3", 7, 20
    counts = [int(c) for c in args.people.split(",")]
    parts = args.only.split(",")
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    days = max(args.days, args.cohort_days, TICK_DAYS)
    world = SandboxWorld(seed=SEED, days=days + 3, timezone=TIMEZONE, clock=SandboxClock(now))
    # the last whole day in every person's zone (the zones range over a day; none is ahead of UTC+14)
    end = (now - timedelta(days=1)).date()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores",
          flush=True)
    headline: list[str] = []
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="health-bench-people-")))
        sandbox = stack.enter_context(sandbox_for(world))
        if "cost" in parts:
            start = end - timedelta(days=args.days - 1)
            print(f"\n11.1 cost per person-day: Oura, {args.days} days ({start} .. {end}), every asset, "
                  "each run in its own process")
            print(HEADER, flush=True)
            results = cost_per_person_day(stack, sandbox, root, counts, start, end, 3 if args.quick else 10)
            one, most = results[0], results[-1] if results[-1].runs == 1 else results[-2]
            if one.people == 1 and most.people > 1:
                n = most.people
                print(f"{n} people against {n} one-person runs: requests {most.requests / (n * one.requests):.3f}x, "
                      f"event rows {most.events / (n * one.events):.3f}x, event bytes "
                      f"{most.event_bytes / (n * one.event_bytes):.3f}x, CPU {most.cpu_s / (n * one.cpu_s):.3f}x, "
                      f"wall {most.wall_s / (n * one.wall_s):.3f}x "
                      "(target <= 1.2x for requests and bookkeeping)", flush=True)
                met = max(most.requests / (n * one.requests), most.events / (n * one.events)) <= 1.2
                headline.append(f"{n} people: {most.requests / (n * one.requests):.2f}x the requests and "
                                f"{most.events / (n * one.events):.2f}x the event rows of {n} one-person runs "
                                f"(target <= 1.2x: {'met' if met else 'not met'})")
        if "tick" in parts:
            for sources in args.tick_sources.split(";"):
                chosen = tuple(sources.split(","))
                print(f"\n11.2 the automation tick: {args.tick_people} people, {', '.join(chosen)}, the last "
                      f"{TICK_DAYS} days landed")
                timings = automation_tick(stack, sandbox, root, args.tick_people, end, chosen)
                for name, seconds, said in timings:
                    print(f"  {name:<34} {seconds:7.2f} s  {said}", flush=True)
                name, seconds, _ = max(timings[1:], key=lambda t: t[1])
                headline.append(f"slowest tick with {args.tick_people} people ({', '.join(chosen)}): {name} "
                                f"{seconds:.1f} s (target < 5 s)")
        if "cohorts" in parts:
            start = end - timedelta(days=args.cohort_days - 1)
            count = 4 if args.quick else 10
            print(f"\n11.3 {count} people, {args.cohort_days} days: one run against two cohorts' runs at once")
            print(HEADER, flush=True)
            results = two_cohorts(stack, sandbox, root, start, end, count)
            for figures in results:
                print(row(figures, results[0]), flush=True)
            print(f"two runs of {count // 2} at once: {results[-1].wall_s:.1f} s against one run of {count}: {results[0].wall_s:.1f} s "
                  f"({results[-1].wall_s / results[0].wall_s:.2f}x)", flush=True)
            headline.append(f"two cohorts' runs at once {results[-1].wall_s:.0f} s, one run {results[0].wall_s:.0f} s")
    print(f"people: {'; '.join(headline)}; load average at the end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)


def child(config_path: str, home: str, start: str, end: str, tags: str, what: str = "all") -> None:
    """One sync over [start, end] with `tags`, as `health-pipeline sync --start --end` makes it (the enabled
    sources' landing assets, every tidy table, the export; `what="raw"`: the landing assets only); prints
    the run id as JSON."""
    from health_pipeline.instance.settings import apply_dagster_settings
    from health_pipeline.sync import SyncError, downstream_keys, materialize_range, plan_sync, sync_tags

    apply_dagster_settings()
    config = load_config(Path(config_path))
    with instance_in(Path(home)) as instance:
        plan = plan_sync(config, instance, None)
        keys = plan.keys + (downstream_keys(config) if what == "all" else [])
        try:
            result = materialize_range(config, instance, keys, date.fromisoformat(start),
                                       date.fromisoformat(end), tags={**sync_tags(plan), **json.loads(tags)})
        except SyncError as err:  # `run <id> failed: ...`
            print(json.dumps({"run_id": str(err).split()[1], "failed": str(err)}), flush=True)
            return
    print(json.dumps({"run_id": result.run_id}), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        child(*sys.argv[2:8])
    else:
        main()
