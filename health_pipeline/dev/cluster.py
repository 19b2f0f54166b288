"""A deployment spread over imitated machines, for tests and benchmarks of runs on several workers.

This machine runs the shared servers on its bridge address (dev/hosts.py): PostgreSQL (Dagster's
history and the raw store), Redis (the Celery broker and the shared quota counters), the sandbox
(over HTTPS, as off loopback OAuth requires) and VictoriaMetrics; then the Dagster daemon and UI
(`dagster dev`). Each named machine runs one `health-pipeline worker`. The config file is the
caller's: `app_settings()` gives its `[app]` lines for the shared stores.
"""

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from health_pipeline.config import CONFIG_ENV
from health_pipeline.dev.dagster_dev import DagsterDev
from health_pipeline.dev.hosts import Hosts, self_signed_certificate
from health_pipeline.dev.local_postgres import LocalPostgres
from health_pipeline.dev.local_redis import LocalRedis
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.dev.sandbox import sandbox_for
from health_pipeline.dev.workers import WorkerProcesses, worker_name
from health_pipeline.instance.home import MONITOR_EVERY_S as HOME_MONITOR_EVERY_S
from health_pipeline.instance.home import POSTGRES_URL_ENV, ensure_instance_settings, instance_in
from health_pipeline.instance.workers import BROKER_ENV, WorkerRunLauncher
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import SandboxWorld

# the run monitor's poll, and how long a failed run's pool slots stay held: a dead worker's run is failed
# and its slots freed within seconds (the home's settings: 30 s each)
MONITOR_EVERY_S = 5


@dataclass
class Servers:
    """The shared servers on this machine's bridge address, and what every process needs to reach them."""

    hosts: Hosts
    sandbox: Sandbox
    postgres: LocalPostgres
    redis_base: str  # redis://host:port, without the database number
    victoriametrics: LocalVictoriaMetrics
    home: Path
    env: dict[str, str] = field(default_factory=dict)

    def app_settings(self, raw_database: str = "raw") -> str:
        """`[app]` lines: the raw store in PostgreSQL (a new database), quotas counted in Redis."""
        return (f'raw_db = "{self.postgres.create_database(raw_database)}"\n'
                f'coordination_url = "{self.redis_base}/2"\n')


@contextmanager
def servers(root: Path, world: SandboxWorld, machines: Sequence[str]) -> Iterator[Servers]:
    """Start the bridge, the namespaces and the shared servers; write a Dagster home (history in
    PostgreSQL, runs on workers) at `root/dagster-home`; stop everything on exit."""
    with ExitStack() as stack:
        hosts = stack.enter_context(Hosts(machines))
        host = hosts.address
        tls = self_signed_certificate(root, host) if hosts.isolated else None
        sandbox = stack.enter_context(sandbox_for(world, host=host, tls=tls))
        postgres = stack.enter_context(LocalPostgres(host=host))
        redis_server = stack.enter_context(LocalRedis(host=host))
        victoriametrics = stack.enter_context(LocalVictoriaMetrics(root / "vm", host=host))
        redis_base = redis_server.url.rsplit("/", 1)[0]
        home = root / "dagster-home"
        env = {"DAGSTER_HOME": str(home), POSTGRES_URL_ENV: postgres.url, BROKER_ENV: f"{redis_base}/1",
               **({"REQUESTS_CA_BUNDLE": str(tls[0])} if tls else {})}
        ensure_instance_settings(home, postgres=True, workers=True)
        settings = home / "dagster.yaml"
        settings.write_text(settings.read_text()
                            .replace(f"poll_interval_seconds: {HOME_MONITOR_EVERY_S}\n",
                                     f"poll_interval_seconds: {MONITOR_EVERY_S}\n")
                            .replace("free_slots_after_run_end_seconds: 30\n",
                                     f"free_slots_after_run_end_seconds: {MONITOR_EVERY_S}\n"))
        yield Servers(hosts, sandbox, postgres, redis_base, victoriametrics, home, env)


@dataclass
class Cluster:
    """The daemon and UI on this machine, a worker on each imitated machine, and the shared instance."""

    servers: Servers
    ui: DagsterDev
    workers: WorkerProcesses
    instance: dg.DagsterInstance

    @property
    def launcher(self) -> WorkerRunLauncher:
        launcher = self.instance.run_launcher
        assert isinstance(launcher, WorkerRunLauncher)
        return launcher

    def answering(self, machine: str) -> bool:
        return self.launcher.answers(worker_name(machine))


@contextmanager
def cluster(servers: Servers, config_path: Path, machines: Sequence[str] | None = None) -> Iterator[Cluster]:
    """`dagster dev` here and a worker on each of `machines` (default: all), for the config at
    `config_path`; the workers are stopped (killed) on exit."""
    env = {**servers.env, CONFIG_ENV: str(config_path)}
    with (instance_in(servers.home) as instance, DagsterDev(servers.home, config_path, port=0, env=env) as ui,
          WorkerProcesses(servers.hosts, config_path, env, config_path.parent) as workers):
        for machine in machines or servers.hosts.names:
            workers.start(machine)
        yield Cluster(servers, ui, workers, instance)
