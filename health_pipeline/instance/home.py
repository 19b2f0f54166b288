"""Which Dagster instance the CLI records its runs in: the same one `dagster dev` uses.

`$DAGSTER_HOME` when set; otherwise the project's `dagster.yaml` in the working directory with
its repo-local `.dagster_home/` (what `dagster dev` does from the repo root); otherwise a
`.dagster_home/` beside the config file.

A home's history is kept in SQLite files inside it (the default) or, written by
`health-pipeline init --postgres`, in a PostgreSQL database through `dagster-postgres`, whose URL
the dagster.yaml reads from `$DAGSTER_POSTGRES_URL` (so no password is written to a file).
"""

import os
import re
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
import psycopg2
import yaml

from health_pipeline.config import Config
from health_pipeline.instance.internals import instance_from_home, set_pool_limit
from health_pipeline.settings import ConfigError, redact_url

HOME_MARK = "@dagster_home@"  # in dagster_instance.yaml: where the Dagster home's absolute path goes
STORAGE_BLOCK = re.compile(r"# storage: begin.*?# storage: end\n", re.DOTALL)
POSTGRES_URL_ENV = "DAGSTER_POSTGRES_URL"
POSTGRES_DRIVER = "postgresql+psycopg2"  # what dagster-postgres connects with
POSTGRES_STORAGE = f"""# Dagster's runs, events and schedules in PostgreSQL (dagster-postgres), at the URL in
# ${POSTGRES_URL_ENV} ({POSTGRES_DRIVER}://USER:PASSWORD@HOST:PORT/DATABASE), read by every
# Dagster process at start: the webserver, the daemon, the runs and `health-pipeline`.
storage:
  postgres:
    postgres_url:
      env: {POSTGRES_URL_ENV}
"""
MONITORING = "run_monitoring:\n  enabled: true\n"
MONITOR_EVERY_S = 30  # with workers: how soon a run whose worker died is failed and retried (Dagster: 120)
# with workers, a run waiting in the broker for a free worker counts as starting: it may wait this long
QUEUED_ON_WORKERS_S = 6 * 3600
WORKERS_BLOCK = """
# Runs execute on Celery workers (`health-pipeline worker`, on any machine that reaches the broker
# in $HEALTH_PIPELINE_BROKER_URL, this Postgres and the stores): health_pipeline/instance/workers.py.
run_launcher:
  module: health_pipeline.instance.workers
  class: WorkerRunLauncher
  config:
    broker:
      env: HEALTH_PIPELINE_BROKER_URL
    backend:
      env: HEALTH_PIPELINE_BROKER_URL
"""


class InstanceUnavailable(Exception):
    """The Dagster instance's database does not answer (a one-line message, no secrets)."""


class InstanceMisconfigured(ConfigError):
    """The Dagster home's settings cannot work as written (exit status 2, like a config error)."""


def instance_settings(home: Path, postgres: bool = False, workers: bool = False) -> str:
    """The instance settings (pools, queue, retries, telemetry off, storage) for a Dagster home at
    `home`, as dagster.yaml text: history in SQLite files in the home, or in Postgres; runs in
    processes on this machine, or (`workers`) on Celery workers."""
    text = resources.files("health_pipeline.instance").joinpath("dagster.yaml").read_text(encoding="utf-8")
    if postgres:
        text = STORAGE_BLOCK.sub(lambda _: POSTGRES_STORAGE, text)
    if workers:
        text = (text.replace(MONITORING, MONITORING + f"  poll_interval_seconds: {MONITOR_EVERY_S}\n")
                .replace("start_timeout_seconds: 600\n", f"start_timeout_seconds: {QUEUED_ON_WORKERS_S}\n")
                + WORKERS_BLOCK)
    return text.replace(HOME_MARK, str(home.absolute()))


def ensure_instance_settings(home: Path, postgres: bool = False, workers: bool = False) -> bool:
    """Write our dagster.yaml into a Dagster home that has none; True if it wrote one."""
    target = home / "dagster.yaml"
    if target.exists() or (home / "dagster.yml").exists():
        return False
    home.mkdir(parents=True, exist_ok=True)
    target.write_text(instance_settings(home, postgres, workers), encoding="utf-8")
    return True


def _settings(settings_dir: Path) -> dict[str, Any]:
    for name in ("dagster.yaml", "dagster.yml"):
        path = settings_dir / name
        if path.exists():
            try:
                loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError) as err:
                raise InstanceMisconfigured(f"{path}: cannot read Dagster's settings: {err}") from None
            return loaded if isinstance(loaded, dict) else {}
    return {}


def _kind(settings: dict[str, Any]) -> str:
    if isinstance(settings.get("storage"), dict) and "postgres" in settings["storage"]:
        return "postgres"
    modules = [str((settings.get(key) or {}).get("module", "")) for key in ("run_storage", "event_log_storage")]
    return "postgres" if any(m.startswith("dagster_postgres") for m in modules) else "sqlite"


def storage_kind(settings_dir: Path) -> str:
    """"postgres" when the dagster.yaml in `settings_dir` keeps history in Postgres, else "sqlite"."""
    return _kind(_settings(settings_dir))


def _resolve(value: Any) -> str | None:
    if isinstance(value, dict) and "env" in value:
        return os.environ.get(str(value["env"])) or None
    return str(value) if value else None


def _url(settings: dict[str, Any]) -> tuple[str | None, str]:
    config: Any = ((settings.get("storage") or {}).get("postgres")
                   or ((settings.get("event_log_storage") or {}).get("config")) or {})
    if "postgres_url" in config:
        raw = config["postgres_url"]
        where = f"${raw['env']}" if isinstance(raw, dict) and "env" in raw else "dagster.yaml"
        return _resolve(raw), where
    db = config.get("postgres_db") or {}
    if db:
        user, password = _resolve(db.get("username")), _resolve(db.get("password"))
        host, name = _resolve(db.get("hostname")), _resolve(db.get("db_name"))
        port = _resolve(db.get("port")) or "5432"
        auth = f"{user}:{password}@" if password else f"{user}@"
        return (f"{POSTGRES_DRIVER}://{auth}{host}:{port}/{name}" if user and host and name else None), "dagster.yaml"
    return None, "dagster.yaml"


def postgres_url(settings_dir: Path) -> tuple[str | None, str]:
    """The Postgres URL a Postgres-backed home uses and where it comes from (`$NAME` or the file);
    None when it is not set. A `postgres_db` mapping (username, password, hostname, db_name, port),
    the form an earlier deploy/README showed, is given as its URL."""
    return _url(_settings(settings_dir))


def postgres_url_problem(url: str) -> str | None:
    """Why dagster-postgres cannot use `url`, or None. SQLAlchemy 2.1 reads a bare `postgresql://`
    as psycopg 3, which is not installed: the URL must name psycopg2."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as err:
        return f"{redact_url(url)} is not a URL ({err})"
    if parts.scheme in ("postgresql", "postgres"):
        return (f"{redact_url(url)} names no driver: write {POSTGRES_DRIVER}://{parts.netloc.rsplit('@', 1)[-1]}"
                f"{parts.path} (with the user and password), the driver dagster-postgres installs")
    if parts.scheme != POSTGRES_DRIVER:
        return f"{redact_url(url)} is not a {POSTGRES_DRIVER}:// URL"
    if not parts.hostname or not parts.path.strip("/"):
        return f"{redact_url(url)} names no host or no database"
    return None


def postgres_problem(url: str, timeout_s: int = 5) -> str | None:
    """Why the Postgres server at `url` does not answer (one line, password hidden), or None."""
    try:
        psycopg2.connect(url.replace(f"{POSTGRES_DRIVER}://", "postgresql://", 1), connect_timeout=timeout_s).close()
    except psycopg2.Error as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        return f"Postgres at {redact_url(url)} does not answer: {first}"
    return None


def check_postgres(settings_dir: Path) -> str | None:
    """For a Postgres-backed home: its URL, once it is set, well-formed and answers (else a
    one-line error); None for a SQLite home."""
    settings = _settings(settings_dir)
    if _kind(settings) != "postgres":
        return None
    url, where = _url(settings)
    if url is None:
        raise InstanceMisconfigured(f"{settings_dir / 'dagster.yaml'} keeps Dagster's history in Postgres, "
                                    f"but {where} is not set: set it to the database's URL")
    problem = postgres_url_problem(url)
    if problem:
        raise InstanceMisconfigured(f"{where}: {problem}")
    problem = postgres_problem(url)
    if problem:
        raise InstanceUnavailable(f"{problem} (Dagster's history, from {where})")
    return url


def history_location(config: Config) -> tuple[str, bool]:
    """Where the CLI's Dagster home keeps its history, for people (`history in SQLite in HOME`, or
    `history in Postgres at URL` with the password hidden, once it answers), and whether that is
    Postgres."""
    located = instance_home(config)
    if located is None:
        return f"history in SQLite in {config.base_dir / '.dagster_home'} (created by the first run)", False
    home, settings_dir = located
    url = check_postgres(settings_dir)
    return (f"history in Postgres at {redact_url(url)}", True) if url else (f"history in SQLite in {home}", False)


def instance_home(config: Config) -> tuple[Path, Path] | None:
    """(the Dagster home, the folder of its dagster.yaml) the CLI uses, as `open_instance` picks
    them, or None where no home exists yet (it would be created beside the config)."""
    if os.environ.get("DAGSTER_HOME"):
        home = Path(os.environ["DAGSTER_HOME"])
        return home, home
    cwd = Path.cwd()
    if (cwd / "dagster.yaml").exists():
        return cwd / ".dagster_home", cwd
    home = config.base_dir / ".dagster_home"
    return (home, home) if (home / "dagster.yaml").exists() else None


def open_instance(config: Config) -> dg.DagsterInstance:
    if os.environ.get("DAGSTER_HOME"):
        check_postgres(Path(os.environ["DAGSTER_HOME"]))
        return dg.DagsterInstance.get()
    cwd = Path.cwd()
    if (cwd / "dagster.yaml").exists():
        home = cwd / ".dagster_home"
        home.mkdir(exist_ok=True)
        check_postgres(cwd)
        return instance_from_home(home, config_dir=cwd)
    return instance_in(config.base_dir / ".dagster_home")


def instance_in(home: Path) -> dg.DagsterInstance:
    """The instance whose home is `home`, given our settings if it has no dagster.yaml yet."""
    ensure_instance_settings(home)
    check_postgres(home)
    return instance_from_home(home.absolute())


def register_pools(instance: dg.DagsterInstance, pools: tuple[str, ...], limit: int = 1) -> None:
    """Set every pool's limit explicitly (`Registry.pools`: one client per API source, one writer per
    store; they also default to 1 in dagster.yaml), so the UI lists them before their first run."""
    for pool in pools:
        set_pool_limit(instance, pool, limit)
