"""`health-pipeline doctor`: is this setup healthy, and if not, what to do about each problem.

Checks the config (and whether others can read its secrets), both stores (present, not held by
another process), Dagster's home (SQLite, or a Postgres that answers), each enabled provider
(credentials, their expiry, and one cheap request), and VictoriaMetrics (reachable, retention long
enough for the configured history).
"""

import sqlite3
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from health_pipeline.config import Config, load_config, secrets_readable
from health_pipeline.declarations import ApiSource, Registry
from health_pipeline.instance.home import (POSTGRES_DRIVER, InstanceMisconfigured, InstanceUnavailable, history_location,
                                           instance_home)
from health_pipeline.providers.errors import AuthExpired, ProviderError, ReauthorizationNeeded
from health_pipeline.settings import ConfigError, DatabaseUrl
from health_pipeline.storage.duckdb_store import TidyStore, TidyStoreLocked
from health_pipeline.storage.raw_store import RawStore, RawStoreError
from health_pipeline.storage.victoriametrics import VictoriaMetrics, VictoriaMetricsAuthError, VictoriaMetricsError

OK, WARN, FAIL = "ok", "warn", "FAIL"


@dataclass(frozen=True)
class Finding:
    """One check's outcome: its status, what was found, and the fix when it is not ok."""

    check: str
    status: str
    detail: str
    fix: str = ""


def diagnose(config_path: str | Path | None, registry: Registry, today: date | None = None) -> list[Finding]:
    """Every check of a setup of `registry`'s sources, in order; stops after the config when the config
    itself is broken."""
    try:
        config = load_config(config_path, registry)
    except ConfigError as err:
        return [Finding("config", FAIL, str(err), "fix the file (health-pipeline.example.toml lists every key)")]
    findings = [_config(config)]
    findings += _stores(config)
    findings.append(_dagster_instance(config))
    store_ok = all(f.status == OK for f in findings if f.check == "raw store")
    for source in registry.apis:
        if config.provider(source.name).enabled:
            findings += _provider(config, source, store_ok)
    if config.victoriametrics.enabled:
        findings.append(_victoriametrics(config, today or datetime.now(config.app.tz).date()))
    return findings


def _config(config: Config) -> Finding:
    enabled = config.enabled_providers
    where = str(config.path) if config.path else "(no file: defaults)"
    if not enabled:
        return Finding("config", FAIL, f"{where}: no provider is enabled",
                       f"set `enabled = true` in the {' or '.join(f'[{s.name}]' for s in config.registry.apis)} section")
    if config.path and secrets_readable(config.path, tomllib.loads(config.path.read_text(encoding="utf-8"))):
        return Finding("config", WARN, f"{where} holds secrets and other users can read it",
                       f"chmod 600 {config.path}")
    return Finding("config", OK, f"{where}; enabled: {', '.join(enabled)}")


def _stores(config: Config) -> list[Finding]:
    raw, tidy = config.app.raw_db, config.app.duckdb
    findings = []
    if isinstance(raw, DatabaseUrl):
        findings.append(_raw_server(config))
    elif not raw.exists():
        findings.append(Finding("raw store", FAIL, f"{raw} does not exist", "health-pipeline init"))
    else:
        findings.append(_raw_lock(raw))
    if not tidy.exists():
        findings.append(Finding("tidy store", FAIL, f"{tidy} does not exist", "health-pipeline init"))
    else:
        try:
            with TidyStore(tidy, wait_s=2).connect(read_only=True):
                pass
            findings.append(Finding("tidy store", OK, f"{tidy}"))
        except TidyStoreLocked:
            findings.append(Finding("tidy store", FAIL, f"{tidy} is held by another process (a run, or a DuckDB "
                                    "shell with the file open)", "wait for the run to finish or close that program"))
    return findings


def _dagster_instance(config: Config) -> Finding:
    """Where Dagster keeps the run history the CLI and the UI share, and whether it answers."""
    if instance_home(config) is None:
        return Finding("dagster instance", OK, f"no history yet: the first run keeps it in SQLite in "
                       f"{config.base_dir / '.dagster_home'}")
    try:
        where, postgres = history_location(config)
    except InstanceMisconfigured as err:
        return Finding("dagster instance", FAIL, str(err), f"set DAGSTER_POSTGRES_URL={POSTGRES_DRIVER}://USER:"
                       "PASSWORD@HOST:PORT/DATABASE for every Dagster process (deploy/README.md)")
    except InstanceUnavailable as err:
        return Finding("dagster instance", FAIL, str(err), "start the Postgres server, or correct the host, port, "
                       "user and password in DAGSTER_POSTGRES_URL")
    return Finding("dagster instance", OK, f"{where}: answers" if postgres else where)


def _raw_server(config: Config) -> Finding:
    """Whether the raw store's PostgreSQL server answers and holds the store (its URL shown without the password)."""
    try:
        exists = config.raw_store().exists()
    except RawStoreError as err:
        return Finding("raw store", FAIL, str(err), "start the server, or correct the host, port, user and password "
                       "in [app] raw_db (or HEALTH_PIPELINE_APP_RAW_DB)")
    if not exists:
        return Finding("raw store", FAIL, f"{config.app.raw_db}: answers, but holds no raw store yet", "health-pipeline init")
    return Finding("raw store", OK, f"{config.app.raw_db}: answers")


def _raw_lock(path: Path) -> Finding:
    """Whether a write transaction can start at once (a held write lock means a writer is stuck or busy)."""
    conn = sqlite3.connect(path, timeout=2)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as err:
        return Finding("raw store", FAIL, f"{path}: {err} (another process is writing to it)",
                       "wait for the running sync to finish, or stop the process holding the file")
    finally:
        conn.close()
    return Finding("raw store", OK, f"{path}")


def _provider(config: Config, source: ApiSource, store_ok: bool) -> list[Finding]:
    name = source.name
    if not source.uses_oauth:
        if not getattr(config.provider(name), "api_key", None):
            return [Finding(name, FAIL, "no API key",
                            f"set [{name}] api_key or HEALTH_PIPELINE_{name.upper()}_API_KEY")]
        credentials = Finding(f"{name} credentials", OK, "API key set")
    else:
        if not store_ok:
            return [Finding(f"{name} credentials", FAIL, "the raw store (which keeps tokens) is not usable",
                            "fix the raw store first")]
        credentials = _token(config, name)
        if credentials.status == FAIL:
            return [credentials]
    return [credentials, _probe(config, source)]


def _token(config: Config, name: str) -> Finding:
    token = config.raw_store().token(name)
    fix = f"health-pipeline auth {name}"
    if token is None:
        return Finding(f"{name} credentials", FAIL, "no token", fix)
    if token.expires_at is None:
        return Finding(f"{name} credentials", OK, "token present (no expiry)")
    left = token.expires_at - datetime.now(timezone.utc)
    if left.total_seconds() > 0:
        return Finding(f"{name} credentials", OK, f"access token valid for {_duration(left)}")
    if not token.refresh_token:
        return Finding(f"{name} credentials", FAIL, "access token expired and there is no refresh token", fix)
    return Finding(f"{name} credentials", OK, "access token expired; the refresh token renews it on use")


def _probe(config: Config, source: ApiSource) -> Finding:
    """One cheap authenticated request, the smallest each API offers (the source's `probe`)."""
    name, what = source.name, source.probe.what
    today = datetime.now(config.app.tz).date()
    store = config.raw_store()

    def call() -> None:
        api = source.build_client(config.provider(name), config.app, store)
        try:
            source.probe.call(api, today)
        finally:
            api.http.close()

    try:
        call()
    except (AuthExpired, ReauthorizationNeeded) as err:
        return Finding(f"{name} API", FAIL, f"{what}: {err}", f"health-pipeline auth {name}")
    except ProviderError as err:
        return Finding(f"{name} API", FAIL, f"{what}: {err}",
                       f"check [{name}] base_url, the network, and the provider's status page")
    except OSError as err:
        return Finding(f"{name} API", FAIL, f"{what}: {err}", f"check [{name}] base_url and the network")
    return Finding(f"{name} API", OK, f"{what}: answered")


def _victoriametrics(config: Config, today: date) -> Finding:
    settings = config.victoriametrics
    earliest = min(config.provider(n).start_date for n in config.enabled_providers)
    needed = today - earliest + timedelta(days=1)
    try:
        vm = VictoriaMetrics(settings)
        try:
            vm.health()
            retention = vm.retention()
            vm.check_credentials()
        finally:
            vm.close()
    except VictoriaMetricsAuthError as err:
        return Finding("victoriametrics", FAIL, str(err), "set [victoriametrics] username and the password "
                       "(HEALTH_PIPELINE_VICTORIAMETRICS_PASSWORD) to what the server or its proxy expects")
    except VictoriaMetricsError as err:
        return Finding("victoriametrics", FAIL, str(err), f"start VictoriaMetrics or fix [victoriametrics] url "
                       f"({settings.display_url})")
    if retention < needed:
        return Finding("victoriametrics", FAIL,
                       f"{settings.display_url}: retention {_duration(retention)} is shorter than the history since "
                       f"{earliest} ({needed.days} days): older samples would be refused",
                       "restart VictoriaMetrics with -retentionPeriod=100y (or move start_date later)")
    return Finding("victoriametrics", OK, f"{settings.display_url}: healthy, retention {_duration(retention)}")


def _duration(value: timedelta) -> str:
    if value.days >= 365:
        return f"{value.days / 365.25:.0f} years"
    if value.days >= 2:
        return f"{value.days} days"
    return f"{value.total_seconds() / 3600:.1f} h"


def render(findings: list[Finding]) -> str:
    """The findings as a table, then one `fix:` line under each problem."""
    width = max(len(f.check) for f in findings)
    lines = [f"{'status':<6}  {'check':<{width}}  detail"]
    for f in findings:
        lines.append(f"{f.status:<6}  {f.check:<{width}}  {f.detail}")
        if f.fix:
            lines.append(f"{'':<6}  {'':<{width}}  fix: {f.fix}")
    problems = sum(f.status != OK for f in findings)
    lines.append("")
    lines.append("all is well" if not problems else f"{problems} problem{'s' if problems > 1 else ''} found")
    return "\n".join(lines)
