"""`health-pipeline`: the command-line front door over the same code the Dagster assets run.

Exit status: 0 success, 1 a run or a service failed, 2 bad configuration or arguments.
"""

import argparse
import difflib
import logging
import os
import shutil
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable

import dagster as dg

from health_pipeline.auth_flow import AuthFlowError, authorize
from health_pipeline.config import CONFIG_ENV, Config, example_text
from health_pipeline.declarations import ApiSource
from health_pipeline.dev.dagster_dev import DagsterDevError
from health_pipeline.dev.demo import DemoOptions, run_demo
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetricsError
from health_pipeline.dev.sandbox import sandbox_for
from health_pipeline.doctor import OK, diagnose, render
from health_pipeline.export.lineage import describe, metric_list, metric_table
from health_pipeline.export.metrics import METRIC_NAMES
from health_pipeline.instance.home import (POSTGRES_DRIVER, POSTGRES_URL_ENV, WORKERS_BLOCK, InstanceMisconfigured, InstanceUnavailable,
                                           ensure_instance_settings, history_location, open_instance,
                                           postgres_url_problem, register_pools, storage_kind)
from health_pipeline.instance.settings import apply_dagster_settings
from health_pipeline.instance.workers import BROKER_ENV, WorkersNotConfigured, worker_app
from health_pipeline.naming import DAYS_TAG, MODELS_TAG, PEOPLE_TAG, REBUILD_TAG, TAKE_TOKENS_TAG, window_tag
from health_pipeline.people import Person, default_person, everyone, select
from health_pipeline.people_commands import people_command
from health_pipeline.pipeline.imports import CHANGED, import_providers
from health_pipeline.pipeline.resources import ImportProgress
from health_pipeline.pipeline.windows import parse_ranges, ranges_text
from health_pipeline.providers.errors import ProviderError
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.registry import REGISTRY, load_config
from health_pipeline.sandbox.faults import FaultSpecError, parse_fault_spec
from health_pipeline.sandbox.world import SandboxWorld, default_days
from health_pipeline.settings import ConfigError, DatabaseUrl, timezone_problem
from health_pipeline.storage.duckdb_store import TidyStore, TidyStoreError, TidyStoreLocked
from health_pipeline.storage.raw_store import RawStore, RawStoreError
from health_pipeline.storage.victoriametrics import VictoriaMetricsError
from health_pipeline.sync import (SyncError, SyncResult, check_range, downstream_keys, due_range, materialize_range,
                                  plan_sync, sync_tags, today_in, wait_for_fetches)
from health_pipeline.tidy.models import create_tables


EXIT_FAILED = 1
EXIT_USAGE = 2


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (expected YYYY-MM-DD): {value!r}") from None


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0-65535: {port}")
    return port


def _instant(value: str) -> datetime:
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 instant (e.g. 2026-11-23T10:00:00Z): {value!r}") from None
    if instant.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a UTC offset or Z: {value!r}")
    return instant


def _timezone(value: str) -> str:
    problem = timezone_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {number}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="health-pipeline",
        description=f"Keep {REGISTRY.titles()} data in a local warehouse.",
    )
    parser.add_argument("--config", metavar="PATH", help="config file (default: $HEALTH_PIPELINE_CONFIG or ./health-pipeline.toml)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    init = commands.add_parser("init", help="create the raw store, the tidy database and Dagster's home settings")
    init.add_argument("--postgres", action="store_true",
                      help="keep Dagster's history in PostgreSQL at $DAGSTER_POSTGRES_URL (a new $DAGSTER_HOME)")
    init.add_argument("--workers", action="store_true",
                      help="with --postgres: execute runs on Celery workers (`health-pipeline worker`, on any "
                           "machine) through the Redis broker at $HEALTH_PIPELINE_BROKER_URL")
    worker = commands.add_parser("worker", help="execute the runs the daemon queues, on this machine "
                                                "(a Dagster home written by `init --postgres --workers`)")
    worker.add_argument("--name", metavar="NAME", help="this worker's name, shown on its runs (default: the host's name)")
    worker.add_argument("--concurrency", type=_positive, default=1, help="runs at once on this worker (default 1)")
    status = commands.add_parser("status", help="providers, tokens, and what has landed per resource")
    status.add_argument("--person", action="append", metavar="ID", help="only this person (repeatable)")
    commands.add_parser("doctor", help="check config, stores, credentials, each provider and VictoriaMetrics; "
                                      "exit 0 only when all is well")

    sync = commands.add_parser("sync", help="fetch every enabled provider (what is due, or --start/--end), model and "
                                            "export it, in one Dagster run")
    sync.add_argument("--start", type=_day, metavar="YYYY-MM-DD", help="with --end: fetch these days (all providers)")
    sync.add_argument("--end", type=_day, metavar="YYYY-MM-DD")
    sync.add_argument("--provider", action="append", choices=REGISTRY.api_names(), help="only this provider (repeatable)")
    sync.add_argument("--person", action="append", metavar="ID", help="only this person (repeatable; default everyone)")

    rebuild = commands.add_parser("rebuild", help="re-model tidy tables and re-export from the raw store (no API calls)")
    rebuild.add_argument("--start", type=_day, metavar="YYYY-MM-DD")
    rebuild.add_argument("--end", type=_day, metavar="YYYY-MM-DD")

    auth = commands.add_parser("auth", help="authorise health-pipeline with a provider (tokens are stored locally)")
    auth.add_argument("provider", choices=REGISTRY.api_names())
    auth.add_argument("--no-browser", action="store_true", help="print the URL instead of opening a browser")
    auth.add_argument("--manual", action="store_true",
                      help="paste the redirected URL yourself (for redirect URIs that are not on this machine)")
    auth.add_argument("--timeout", type=_positive, default=300, help="seconds to wait for the redirect (default 300)")
    auth.add_argument("--person", metavar="ID", help="whose account (default: the single-person home's [app] user); "
                                                     "sent to the provider as login_hint")

    tokens = commands.add_parser("tokens", help="manage stored OAuth tokens")
    tokens_commands = tokens.add_subparsers(dest="tokens_command", metavar="SUBCOMMAND", required=True)
    token_import = tokens_commands.add_parser(
        "import", help="store tokens obtained elsewhere (authorise on a laptop, run on a server)")
    token_import.add_argument("provider", choices=_token_sources())
    token_import.add_argument("--access-token", required=True, metavar="TOKEN", help="the token, or - to read it from stdin")
    token_import.add_argument("--refresh-token", metavar="TOKEN", help="the token, or - to read it from stdin")
    token_import.add_argument("--expires-at", type=_instant, metavar="ISO-8601", help="e.g. 2026-11-23T10:00:00Z")
    token_import.add_argument("--scope", default=None, help="the granted scopes, as the provider wrote them")
    token_import.add_argument("--person", metavar="ID", help="whose tokens (default: [app] user)")
    token_import.add_argument("--user-id", type=int, default=None,
                              help="the user id a token answer carried beside the token (`x_user_id`); the user is registered with it")

    sandbox = commands.add_parser("sandbox", help="the local fake provider APIs")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", metavar="SUBCOMMAND", required=True)
    serve = sandbox_commands.add_parser("serve", help="serve every fake provider on one port")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8765)
    serve.add_argument("--seed", type=int, default=42)
    serve.add_argument("--days", type=_positive, default=None,
                       help="days of history to generate (default: 90, or back past the last DST change)")
    serve.add_argument("--timezone", type=_timezone, default="Europe/Berlin", help="the sandbox person's home time zone")
    serve.add_argument("--faults", metavar="SPEC", default="",
                       help=f"inject faults, e.g. '{REGISTRY.api_names()[0]}:5xx=0.1,429=0.05;{REGISTRY.api_names()[-1]}:script=reset|ok' "
                            "(see the README)")

    imports = commands.add_parser("import", help="import an export (a provider's archive, another tool's database), "
                                                 "then model and export it, in one Dagster run")
    import_commands = imports.add_subparsers(dest="import_command", metavar="KIND", required=True)

    for importer in REGISTRY.imports:
        command = import_commands.add_parser(importer.name.replace("_", "-"), help=importer.help)
        command.add_argument("path", type=Path, nargs="?", help=f"the export (default: [{importer.name}] path)")
        command.add_argument("--person", metavar="ID", help="whose export it is (needed when there are several people)")
        if "take_tokens" in importer.settings.model_fields:
            command.add_argument("--take-tokens", action="store_true",
                                 help="also take its OAuth tokens (stop that program first: refresh tokens rotate)")

    people = commands.add_parser("people", help="the people this deployment syncs (a household, a study)")
    people_commands = people.add_subparsers(dest="people_command", metavar="ACTION", required=True)
    add = people_commands.add_parser("add", help="add a person (or everyone in a CSV) without touching the config")
    add.add_argument("person", nargs="?", metavar="ID", help="letters, digits, '.', '_', '-' (their metric label)")
    add.add_argument("--csv", type=Path, metavar="PATH",
                     help="add everyone in this CSV (columns id, and any of timezone, start_date, sources, cohort)")
    add.add_argument("--timezone", type=_timezone, help="their IANA time zone (default: [app] timezone)")
    add.add_argument("--start-date", type=_day, metavar="YYYY-MM-DD", help="their first day (default: each source's)")
    add.add_argument("--source", action="append", metavar="NAME", help="a source they use (repeatable; default all)")
    add.add_argument("--cohort", metavar="ID", help="their cohort (default: their own id, or [app] cohort_size)")
    people_commands.add_parser("list", help="everyone, with their cohort, time zone, sources and tokens")
    remove = people_commands.add_parser("remove", help="erase a person from every store (records, tokens, tidy rows, "
                                                       "series, runs)")
    remove.add_argument("person", metavar="ID")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    remove.add_argument("--vmauth", type=Path, metavar="PATH",
                        help="also drop them from this vmauth config (written by `people access`)")
    access = people_commands.add_parser(
        "access", help="write vmauth's config: each person reads only their own series (secrets kept across re-runs)")
    access.add_argument("--output", type=Path, required=True, metavar="PATH",
                        help="the vmauth config (mode 600; its existing secrets are kept)")
    access.add_argument("--vm-url", metavar="URL",
                        help="VictoriaMetrics as vmauth reaches it, e.g. http://victoriametrics:8428 "
                             "(default: the one in PATH)")
    access.add_argument("--person", action="append", metavar="ID",
                        help="only this person (repeatable; default everyone); the others lose their access")
    login = access.add_mutually_exclusive_group()
    login.add_argument("--bearer", action="store_true",
                       help="people log in with a bearer token instead of their id and a password")
    login.add_argument("--basic", action="store_true",
                       help="people log in with their id and a password (the default for a new file)")
    access.add_argument("--admin", metavar="NAME", help="the admin's user name (default: the one in PATH, or admin); "
                                                        "its password: $HEALTH_PIPELINE_VMAUTH_ADMIN_PASSWORD, "
                                                        "else kept, else new")
    access.add_argument("--show-secret", metavar="ID", help="print this person's secret, to hand it to them")

    example = commands.add_parser("example-config", help="print a config file with every section and key at its "
                                                         "default, each explained (the models' own words)")
    example.add_argument("--output", type=Path, metavar="PATH", help="write it to PATH instead (not over an existing file)")

    lineage = commands.add_parser("lineage", help="where an exported metric comes from (no METRIC: list them)")
    lineage.add_argument("metric", nargs="?", help="e.g. health_steps")
    lineage.add_argument("--markdown", action="store_true", help="every metric as the README's markdown table")

    demo = commands.add_parser(
        "demo", help="sandbox + local VictoriaMetrics + a real sync of the last N days + the Dagster UI")
    demo.add_argument("--days", type=_positive, default=90, help="days of history to materialize (default 90)")
    demo.add_argument("--workdir", type=Path, default=Path(".demo"))
    demo.add_argument("--sandbox-port", type=_port, default=8765)
    demo.add_argument("--vm-port", type=_port, default=8428)
    demo.add_argument("--ui-port", type=_port, default=3000, help="the Dagster UI's port (0: any free port)")
    demo.add_argument("--no-ui", action="store_true", help="do not start `dagster dev`")
    demo.add_argument("--people", type=_positive, default=1, help="a household of this many (default 1)")
    demo.add_argument("--no-wait", action="store_true",
                      help="stop everything once the sync is done and the UI has come up, instead of serving")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    apply_dagster_settings()  # before any run: batched event writes, planned-event subsets
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "init": _init, "status": _status, "sync": _sync, "rebuild": _rebuild, "auth": _auth,
        "tokens": _tokens, "sandbox": _sandbox, "demo": _demo, "lineage": _lineage, "doctor": _doctor,
        "import": _import, "example-config": _example_config, "people": _people, "worker": _worker,
    }
    try:
        return handlers[args.command](args)
    except ConfigError as err:
        _error(str(err))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as err:  # the typed errors of the layers below, each one line
        if _is_known(err):
            _error(str(err))
            return EXIT_FAILED
        raise


def _is_known(err: Exception) -> bool:
    return isinstance(err, (ProviderError, TidyStoreLocked, TidyStoreError, RawStoreError, VictoriaMetricsError,
                            SyncError, LocalVictoriaMetricsError, AuthFlowError, DagsterDevError, InstanceUnavailable,
                            WorkersNotConfigured,
                            OSError))


def _error(message: str) -> None:
    print(f"health-pipeline: error: {message}", file=sys.stderr)


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config)


# -- commands ------------------------------------------------------------------------------------


def _init(args: argparse.Namespace) -> int:
    config = _config(args)
    home = os.environ.get("DAGSTER_HOME")
    if args.workers and not args.postgres:
        raise InstanceMisconfigured("--workers needs --postgres: workers on other machines share Dagster's "
                                    "history through PostgreSQL")
    if args.postgres:
        _refuse_postgres_init(home)
    if args.workers and not os.environ.get(BROKER_ENV):
        raise InstanceMisconfigured(f"--workers needs ${BROKER_ENV}: set it to redis://HOST:PORT/DB, "
                                    "the Redis every worker and the daemon reach")
    if home and ensure_instance_settings(Path(home), postgres=args.postgres, workers=args.workers):
        print(f"dagster.yaml written to {home} (telemetry off, pools, run queue"
              f"{', history in Postgres at $DAGSTER_POSTGRES_URL' if args.postgres else ''}"
              f"{', runs on workers through $' + BROKER_ENV if args.workers else ''})")
    elif home and args.workers and "WorkerRunLauncher" not in _home_settings_text(Path(home)):
        print(f"{home} already has its dagster.yaml, which launches runs on this machine: to run them on "
              f"workers, add this block to it (and the run_monitoring settings in README, \"Several machines\"):"
              f"{WORKERS_BLOCK}")
    config.raw_store().init()
    with TidyStore(config.app.duckdb).connect() as conn:
        create_tables(conn)
    with open_instance(config) as instance:
        register_pools(instance, REGISTRY.pools)
    where, _ = history_location(config)
    print(f"raw store:  {config.app.raw_db}")
    print(f"tidy store: {config.app.duckdb}")
    print(f"dagster:    {where}; pools {', '.join(REGISTRY.pools)} (limit 1 each)")
    return 0


def _home_settings_text(home: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in (home / "dagster.yaml", home / "dagster.yml") if p.exists())


def _worker(args: argparse.Namespace) -> int:
    """Start a Celery worker that executes queued runs until it is stopped (SIGTERM: after its runs end)."""
    config = _config(args)
    if config.path is not None:  # the runs this worker executes load the same config
        os.environ[CONFIG_ENV] = str(config.path)
    if not isinstance(config.raw_store().location, DatabaseUrl):
        print(f"note: the raw store is the file {config.app.raw_db}: workers on other machines cannot reach it; "
              "set [app] raw_db to a PostgreSQL URL", file=sys.stderr)
    with open_instance(config) as instance:
        app = worker_app(instance)
        name = f"{args.name or 'worker'}@%h"
        app.worker_main(["worker", "--loglevel=INFO", f"--concurrency={args.concurrency}", "--hostname", name,
                         "--queues", instance.run_launcher.default_queue, "--without-gossip", "--without-mingle"])
    return 0


def _refuse_postgres_init(home: str | None) -> None:
    """`init --postgres` needs a $DAGSTER_HOME that is new or already Postgres-backed, and a
    usable $DAGSTER_POSTGRES_URL; else one line and exit 2."""

    if not home:
        raise InstanceMisconfigured("--postgres writes Dagster's settings into $DAGSTER_HOME: set DAGSTER_HOME "
                                    "to the folder for them (the Dagster processes must see the same value)")
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        raise InstanceMisconfigured(f"--postgres needs ${POSTGRES_URL_ENV}: set it to "
                                    f"{POSTGRES_DRIVER}://USER:PASSWORD@HOST:PORT/DATABASE")
    problem = postgres_url_problem(url)
    if problem:
        raise InstanceMisconfigured(f"${POSTGRES_URL_ENV}: {problem}")
    settings = [p for p in (Path(home) / "dagster.yaml", Path(home) / "dagster.yml") if p.exists()]
    if settings and storage_kind(Path(home)) != "postgres":
        raise InstanceMisconfigured(f"{settings[0]} keeps Dagster's history in SQLite files: to switch, move "
                                    f"that file away (or use a new DAGSTER_HOME) and run init --postgres again")


def _status(args: argparse.Namespace) -> int:
    config = _config(args)
    print(f"config: {config.path or '(none found: defaults)'}")
    base = config.raw_store()
    exists = base.exists()
    if exists:
        base.init()
    chosen = select(everyone(config, base), args.person or ()) if exists else [default_person(config)]
    if len(chosen) > 1 or args.person:
        print(f"people: {len(chosen)} of {len(everyone(config, base)) if exists else 1}")
    for person in chosen:
        _person_status(config, person, base.for_person(person.id), exists, several=len(chosen) > 1)
    return 0


def _person_status(config: Config, person: Person, store: RawStore, exists: bool, several: bool) -> None:
    """One person's part of `status`: their tokens per source and what has landed."""
    if several:
        print()
        print(f"== {person.id} (cohort {person.cohort})")
    print(f"time zone: {person.timezone}   user: {person.id}")
    print(f"raw store: {config.app.raw_db}{'' if exists else ' (not created yet: run `health-pipeline init`)'}")
    print(f"tidy store: {config.app.duckdb}{'' if config.app.duckdb.exists() else ' (not created yet)'}")
    print()
    print(f"{'provider':<10} {'enabled':<8} {'start':<11} credentials")
    for name in config.sources:
        provider = config.provider(name)
        credentials = (_credential_status(name, config, store if exists else None)
                       if provider.enabled and person.uses(name) else "-")
        print(f"{name:<10} {'yes' if provider.enabled else 'no':<8} {provider.start_date.isoformat():<11} {credentials}")
    vm = config.victoriametrics
    print(f"{'victoriametrics':<19} {'yes' if vm.enabled else 'no':<8} {vm.display_url}")
    if exists:
        rows = store.resource_summary()
        print()
        if not rows:
            print("nothing has landed yet: run `health-pipeline sync`")
        else:
            table = [[row["provider"], row["resource"], str(row["live"]), str(row["deleted"]),
                      f"{row['first_day'] or '-'}..{row['last_day'] or '-'}", watermark_text(row["watermark"]),
                      row["last_fetched"]] for row in rows]
            print(render_table(["provider", "resource", "records", "deleted", "days", "watermark", "last fetch"], table,
                               widths=[10, 18, 8, 8, 23, 12, 0], right={2, 3}))
        for provider, resource, left, resets in store.backlog():
            why = f"the quota is spent until {watermark_text(resets)}" if resets else "the last run stopped early"
            print(f"{provider} {resource}: {left} still to fetch ({why}; the next run goes on from there)")


def watermark_text(value: str | None) -> str:
    """A watermark as a person reads it: a day landed through (Oura, Fitbit) as it is; Withings'
    `lastupdate` (Unix seconds) and Hevy's newest event (ISO instant) as UTC times."""
    if not value:
        return "-"
    try:
        if value.isdigit():
            instant = datetime.fromtimestamp(int(value), timezone.utc)
        elif "T" in value:
            instant = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
        else:
            return value
    except (ValueError, OverflowError, OSError):
        return value
    return instant.strftime("%Y-%m-%d %H:%M:%S UTC")


def render_table(headers: list[str], rows: list[list[str]], widths: list[int] | None = None,
                 right: frozenset[int] | set[int] = frozenset()) -> str:
    """Columns at least `widths` wide and as wide as their longest cell, so long names stay aligned."""
    minimum = widths or [0] * len(headers)
    sizes = [max([minimum[i], len(headers[i]), *(len(r[i]) for r in rows)]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        parts = [cell.rjust(sizes[i]) if i in right else cell.ljust(sizes[i]) for i, cell in enumerate(cells)]
        return " ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def _credential_status(name: str, config: Config, store: "RawStore | None") -> str:
    if not REGISTRY.api(name).uses_oauth:
        return "api key set" if getattr(config.provider(name), "api_key", None) else "no api key"
    token = store.token(name) if store is not None else None
    if token is None:
        return f"no token (run `health-pipeline auth {name}`)"
    if token.expires_at is None:
        return "token present (no expiry)"
    remaining = token.expires_at - datetime.now(token.expires_at.tzinfo)
    if remaining.total_seconds() <= 0:
        return f"token expired at {token.expires_at:%Y-%m-%d %H:%M} UTC (refreshed on next use)"
    hours = remaining.total_seconds() / 3600
    return f"token present, expires {token.expires_at:%Y-%m-%d %H:%M} UTC (in {hours:.1f} h)"


def _sync(args: argparse.Namespace) -> int:
    config = _config(args)
    if (args.start is None) != (args.end is None):
        raise ConfigError("--start and --end go together")
    with open_instance(config) as instance:
        # a run for some people fetches their reference data whatever another run refreshed for others
        plan = plan_sync(config, None if args.person else instance, args.provider)
        tags = sync_tags(plan)
        if args.person:
            select(everyone(config, config.raw_store()), args.person)  # unknown ids: one line, exit 2
            tags[PEOPLE_TAG] = ",".join(dict.fromkeys(args.person))
        if args.start is not None:
            start, end = args.start, args.end
            check_range(config, start, end)
            tags.update(window_tag(start, end))  # Withings and Hevy fetch these days whole too
        else:
            start, end = due_range(config, instance, plan.dated)
        wait_for_fetches(instance, plan.providers, config.app.lock_wait_s, say=lambda line: _note(line))
        result = materialize_range(config, instance, plan.keys + downstream_keys(config), start, end, tags=tags)
    _print_result(result)
    return 0


def _import(args: argparse.Namespace) -> int:
    """Run an import asset, then the tidy tables and the export over the days it changed (one run each)."""
    config = _config(args)
    name = args.import_command.replace("-", "_")
    path = args.path.expanduser().absolute() if args.path else None
    if path is not None and not path.exists():
        raise ConfigError(f"{path}: no such file or folder")
    if path is None and not config.importer(name).path:
        raise ConfigError(f"no export to import: pass PATH or set [{name}] path in the config file")
    source = REGISTRY.importer(name)
    key = dg.AssetKey(source.asset)
    whose = {PEOPLE_TAG: _one_person(config, args.person).id} if args.person else {}
    today = today_in(config)
    bar = _progress_bar() if sys.stderr.isatty() else None
    try:
        with open_instance(config) as instance:
            try:
                result = materialize_range(config, instance, [key], today, today,
                                           ops={key.to_python_identifier(): {"config": {"path": str(path or "")}}},
                                           tags={**whose, **({TAKE_TOKENS_TAG: "true"}
                                                             if getattr(args, "take_tokens", False) else {})},
                                           progress=ImportProgress(bar))
            finally:
                if bar is not None:
                    print(file=sys.stderr)
            _print_result(result)
            landed = result.metadata.get(key.to_user_string(), {})
            if landed.get("summary"):  # what the import read, per type or file, for a person
                print(str(landed["summary"]))
            ranges = parse_ranges(str(landed.get(CHANGED, "") or ""))
            if ranges:  # one partition (the last day it changed) stands for them: the tag says which days
                last = min(ranges[-1][1], today)
                modelled = materialize_range(config, instance, downstream_keys(config), last, last,
                                             tags={DAYS_TAG: ranges_text(ranges), **whose,
                                                   MODELS_TAG: ",".join(import_providers(source))})
                _print_result(modelled)
            else:
                print("nothing changed: no day to model again")
    except SyncError as err:
        _error(str(err))
        return 1
    for note in landed.get("notes", []) or []:  # what the import asks of the user (e.g. to stop another program)
        _note(str(note))
    failures = [str(line) for line in landed.get("failures", []) or []]
    if len(failures) == 1:  # one line naming it
        _error(f"{failures[0]} (it landed nothing; the rest of the export was imported)")
        return 1
    if failures:
        for line in failures:
            _error(line)
        _error(f"{len(failures)} parts of the export could not be read and landed nothing; the others were imported")
        return 1
    return 0


def _progress_bar() -> Callable[[int, int, str], None]:
    """A one-line progress bar on stderr (a terminal only), gone when the reading is done.

    It is redrawn in place with `\r`, so it must never be wider than the terminal: a wrapped bar leaves
    a line behind at every redraw (the "lines of progress" an 80-column terminal showed above an error).
    """
    width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
    shown = [""]

    def draw(done: int, total: int, name: str) -> None:
        if done >= total:  # erased; up a line, so the newline the caller prints next leaves no blank line
            print("\r\033[K\033[A", end="", file=sys.stderr, flush=True)
            return
        filled = done * 30 // total
        line = f"[{'#' * filled}{'.' * (30 - filled)}] {done * 100 // total:3d} % {name.rsplit('/', 1)[-1]}"[:width]
        if line != shown[0]:
            shown[0] = line
            print(f"\r\033[K{line}", end="", file=sys.stderr, flush=True)
    return draw


def _note(message: str) -> None:
    print(f"health-pipeline: {message}", file=sys.stderr, flush=True)


def _rebuild(args: argparse.Namespace) -> int:
    config = _config(args)
    if (args.start is None) != (args.end is None):
        raise ConfigError("--start and --end go together")
    if args.start is None:
        days = [(r["first_day"], r["last_day"]) for r in config.raw_store().resource_summary() if r["first_day"]]
        if not days:
            print("the raw store is empty: nothing to rebuild")
            return 0
        start = date.fromisoformat(min(d[0] for d in days))
        end = date.fromisoformat(max(d[1] for d in days))
    else:
        start, end = args.start, args.end
    check_range(config, start, end)
    with open_instance(config) as instance:
        # Change-driven sources (Withings, Hevy) are re-modelled even if their records did not change.
        result = materialize_range(config, instance, downstream_keys(config), start, end, tags={REBUILD_TAG: "full"})
    _print_result(result)
    return 0


def _print_result(result: "SyncResult") -> None:
    print(f"run {result.run_id}: {result.start} .. {result.end}")
    for asset, metadata in result.metadata.items():
        shown = ", ".join(
            f"{key}={_brief(value)}" for key, value in metadata.items()
            if (not key.startswith("dagster/") or key == "dagster/row_count") and key != "summary"
        )
        print(f"  {asset}: {shown}")


def _brief(value: object) -> str:
    """A metadata value on one line: lists by their length, long texts cut."""
    if isinstance(value, (list, tuple)):
        return f"[{len(value)} items]"
    text = " ".join(str(value).split())
    return text if len(text) <= 120 else text[:117] + "..."


def _lineage(args: argparse.Namespace) -> int:
    """Metric -> tidy column -> raw asset and JSON field -> provider endpoint (needs no config)."""
    if args.markdown:
        print(metric_table())
    elif args.metric is None:
        print(metric_list())
    elif args.metric in METRIC_NAMES:
        print(describe(REGISTRY, args.metric))
    else:
        close = difflib.get_close_matches(args.metric, METRIC_NAMES, n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(close)}?" if close else "; `health-pipeline lineage` lists them"
        _error(f"no exported metric is called {args.metric!r}{hint}")
        return EXIT_USAGE
    return 0


def _oauth_sources() -> list[str]:
    return [s.name for s in REGISTRY.apis if s.uses_oauth]


def _token_sources() -> list[str]:
    """The sources whose credentials may be stored per person: OAuth tokens, or an API key (Hevy's)."""
    return [s.name for s in REGISTRY.apis]


def _one_person(config: Config, person: str) -> Person:
    """The person named on the command line (a `ConfigError` naming the known ones if unknown)."""
    store = config.raw_store()
    store.init()
    return select(everyone(config, store), [person])[0]


def _auth(args: argparse.Namespace) -> int:
    config = _config(args)
    source = REGISTRY.api(args.provider)
    if not source.uses_oauth:
        settings = config.provider(args.provider)
        if not getattr(settings, "api_key", None):
            raise ConfigError(f"[{args.provider}] api_key: not set (in the config file or "
                              f"HEALTH_PIPELINE_{args.provider.upper()}_API_KEY)")
        api = source.build_client(settings, config.app, None)
        try:
            answer = source.probe.call(api, datetime.now(config.app.tz).date())
        finally:
            api.http.close()
        print(f"{args.provider}: the API key works ({source.probe.answer(answer)})"
              + (f"; another person's key: `health-pipeline tokens import {args.provider} --person ID "
                 "--access-token KEY`" if args.person else ""))
        return 0

    settings = config.provider(args.provider)
    if not settings.client_id or not settings.client_secret:  # type: ignore[union-attr]
        raise ConfigError(f"[{args.provider}] client_id and client_secret are needed to authorise (see the README)")
    source.check_settings(settings)
    person = _one_person(config, args.person) if args.person else None
    store = RawStore(config.app.raw_db, person.id if person else config.app.user)
    store.init()
    tokens = OAuthTokens(settings, store, source.oauth)  # type: ignore[arg-type]
    token = authorize(tokens, open_browser=not args.no_browser, manual=args.manual, timeout_s=args.timeout,
                      say=lambda line: print(line, flush=True), login_hint=person.id if person else None)
    expiry = f", access token valid until {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else ""
    whose = f" for {person.id}" if person else ""
    print(f"{args.provider}: authorised{whose}; tokens stored in {store.location}{expiry}")
    granted = tokens.granted_scopes()
    missing = [s for s in tokens.scopes if granted and s not in granted]
    if missing:
        print(f"{args.provider}: warning: not granted: {', '.join(missing)}; data needing them will be skipped")
    _after_authorize(source, config, store, tokens.answer)
    return 0


def _after_authorize(source: ApiSource, config: Config, store: RawStore, answer: dict[str, Any]) -> None:
    """What the provider needs once its tokens are stored (Polar: registering the user)."""
    if source.after_authorize is None:
        return
    person = next((p for p in everyone(config, store) if p.id == store.person), None)
    api = source.build_client(config.provider(source.name), person.app(config.app) if person else config.app, store)
    try:
        print(f"{source.name}: {source.after_authorize(api, answer)}")
    finally:
        api.http.close()


def _tokens(args: argparse.Namespace) -> int:
    config = _config(args)

    def value(given: str | None) -> str | None:
        if given == "-":
            line = sys.stdin.readline().strip()
            if not line:
                raise ConfigError("expected a token on standard input")
            return line
        return given

    access = value(args.access_token)
    if not access:
        raise ConfigError("--access-token must not be empty")
    person = _one_person(config, args.person).id if args.person else config.app.user
    store = RawStore(config.app.raw_db, person)
    store.init()
    store.save_token(args.provider, access_token=access, refresh_token=value(args.refresh_token),
                     scope=args.scope, expires_at=args.expires_at)
    print(f"{args.provider}: tokens stored in {store.location}" + (f" for {person}" if args.person else ""))
    if not REGISTRY.api(args.provider).uses_oauth:  # an API key: nothing to register
        return 0
    _after_authorize(REGISTRY.api(args.provider), config, store,
                     {"x_user_id": args.user_id} if args.user_id is not None else {})
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    days = args.days or default_days(args.timezone, datetime.now(timezone.utc))
    world = SandboxWorld(seed=args.seed, days=days, timezone=args.timezone)
    sandbox = sandbox_for(world, host=args.host, port=args.port)
    try:
        for provider, plan in parse_fault_spec(args.faults, sandbox.providers).items():
            sandbox.faults.set(provider, plan)
    except FaultSpecError as err:
        sandbox.stop()
        raise ConfigError(f"--faults: {err}") from None
    print(f"sandbox serving {days} days (seed {args.seed}, {args.timezone}, trips to "
          f"{world.travel_timezone}); Ctrl-C stops it")
    if args.faults:
        print(f"  faults: {args.faults}")
    for provider in sandbox.providers:
        print(f"  {provider:<14} {sandbox.url(provider)}")
    print("  OAuth client: sandbox / sandbox-secret   API key: sandbox-api-key", flush=True)
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


def _example_config(args: argparse.Namespace) -> int:
    """The example config, generated from the sections' models (so it cannot drift from them)."""
    text = example_text(REGISTRY)
    if args.output is None:
        print(text, end="")
        return 0
    if args.output.exists():
        raise ConfigError(f"{args.output}: already exists; choose another path (nothing was written)")
    args.output.write_text(text, encoding="utf-8")
    args.output.chmod(0o600)  # it will hold secrets once filled in
    print(f"wrote {args.output}")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    findings = diagnose(args.config, REGISTRY)
    print(render(findings), flush=True)
    return 0 if all(f.status == OK for f in findings) else EXIT_FAILED


def _demo(args: argparse.Namespace) -> int:
    run_demo(DemoOptions(
        days=args.days, workdir=args.workdir, sandbox_port=args.sandbox_port, vm_port=args.vm_port,
        ui_port=args.ui_port, wait=not args.no_wait, ui=not args.no_ui, people=args.people,
    ), say=lambda line: print(line, flush=True))
    return 0


def _people(args: argparse.Namespace) -> int:
    return people_command(args, _config(args), say=print)


if __name__ == "__main__":
    sys.exit(main())
