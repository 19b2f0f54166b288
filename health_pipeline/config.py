"""The user's configuration: `health-pipeline.toml`, validated into typed, immutable objects.

Where the file is found: `--config PATH`, else `$HEALTH_PIPELINE_CONFIG`, else
`./health-pipeline.toml`. With none of those, every key takes its default (all providers off).
Secrets may come from the environment (`HEALTH_PIPELINE_<SECTION>_<KEY>`, e.g.
`HEALTH_PIPELINE_OURA_CLIENT_SECRET`), which wins over the file. Relative paths are relative to
the config file. Every problem is reported as one `ConfigError` line naming file, key and fix.
"""

import ipaddress
import math
import os
import re
import stat
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, available_timezones

CONFIG_ENV = "HEALTH_PIPELINE_CONFIG"
DEFAULT_CONFIG_NAME = "health-pipeline.toml"
SECRET_KEYS = ("client_secret", "api_key", "password")
# Labels the exported series carry themselves; `extra_labels` may not redefine them.
RESERVED_LABELS = ("activity", "device", "level", "provider", "segment", "stage", "type", "user", "zone")


class ConfigError(Exception):
    """A configuration problem, phrased as one line for a person to fix."""


class Secret:
    """A secret string that never shows its value in `repr`, `str`, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one place that sends it to its server."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    __str__ = __repr__


@dataclass(frozen=True)
class AppConfig:
    """Where the stores live, whose data it is, and the calendar days are counted in."""

    raw_db: Path
    duckdb: Path
    timezone: str
    user: str
    max_wait_s: float = 300.0
    lock_wait_s: float = 120.0

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class OAuthProviderConfig:
    """An OAuth2 provider (Oura, Fitbit via Google Health, Withings)."""

    name: str
    enabled: bool
    start_date: date
    base_url: str
    authorize_url: str
    token_url: str
    client_id: str
    client_secret: Secret
    redirect_uri: str
    requests_per_minute: int = 60
    options: dict[str, bool] = field(default_factory=dict)  # provider-specific switches
    meastypes: tuple[int, ...] = ()  # Withings: measure types to ask for (empty: the broad default)

    def option(self, name: str) -> bool:
        return bool(self.options.get(name, False))


@dataclass(frozen=True)
class HevyConfig:
    """Hevy, which authenticates with a per-account API key."""

    name: str
    enabled: bool
    start_date: date
    base_url: str
    api_key: Secret
    requests_per_minute: int = 120


@dataclass(frozen=True)
class VictoriaMetricsConfig:
    """The VictoriaMetrics server the metrics are exported to."""

    enabled: bool
    url: str
    username: str
    password: Secret
    syncbit_compat: bool
    extra_labels: dict[str, str] = field(default_factory=dict)
    verify_tls: bool = True
    timeout_s: float = 30.0
    ca_bundle: Path | None = None  # a CA certificate file to verify the server with (self-signed setups)
    syncbit_device: str = "charge6"  # SyncBit's fixed `device` label

    @property
    def display_url(self) -> str:
        """`url` fit to show (status, doctor, errors): a password written into it is `***`."""
        return redact_url(self.url)

    @property
    def tls_verify(self) -> bool | str:
        """What `requests` takes as `verify`: the CA bundle, or whether to verify at all."""
        return str(self.ca_bundle) if self.ca_bundle and self.verify_tls else self.verify_tls


@dataclass(frozen=True)
class Config:
    """The whole validated configuration; `path` is None when defaults were used."""

    path: Path | None
    app: AppConfig
    oura: OAuthProviderConfig
    fitbit: OAuthProviderConfig
    withings: OAuthProviderConfig
    hevy: HevyConfig
    victoriametrics: VictoriaMetricsConfig
    summary: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(SUMMARY_PRECEDENCE))

    @property
    def base_dir(self) -> Path:
        """The folder relative paths are resolved against."""
        return self.path.parent if self.path else Path.cwd()

    def provider(self, name: str) -> OAuthProviderConfig | HevyConfig:
        if name not in PROVIDERS:
            raise ConfigError(f"unknown provider {name!r}; choose one of {', '.join(PROVIDERS)}")
        return getattr(self, name)

    @property
    def enabled_providers(self) -> list[str]:
        return [name for name in PROVIDERS if self.provider(name).enabled]


PROVIDERS = ("oura", "fitbit", "withings", "hevy")
# Switches for optional, heavier data, per provider.
PROVIDER_NAMES = ("oura", "fitbit", "withings", "hevy")

# daily_summary: for each metric, the providers it may come from, best first (`[summary]`).
SUMMARY_PRECEDENCE: dict[str, tuple[str, ...]] = {
    **{metric: ("fitbit", "withings", "oura") for metric in ("steps", "distance_m", "active_kcal", "total_kcal")},
    "floors": ("fitbit", "withings"),
    "resting_hr_bpm": ("fitbit", "oura", "withings"),
    **{metric: ("oura", "fitbit", "withings") for metric in ("asleep_s", "time_in_bed_s")},
    "sleep_score": ("oura", "withings"),
    "readiness_score": ("oura",),
    **{metric: ("oura", "fitbit") for metric in ("hrv_ms", "spo2_pct", "temperature_deviation_c", "vo2_max")},
    "respiratory_rate_brpm": ("oura", "fitbit", "withings"),
    **{metric: ("withings", "fitbit") for metric in ("weight_kg", "fat_ratio_pct")},
    "strength_volume_kg": ("hevy",),
}

OPTIONS = {"fitbit": ("heart_rate_samples",), "withings": ("intraday", "high_frequency_sleep")}
DEFAULT_START_DATE = "2024-01-01"
DEFAULT_REDIRECT_URI = "http://localhost:8484/callback"

# Each key's default; `None` marks a secret or id with no default (required when enabled).
DEFAULTS: dict[str, dict[str, Any]] = {
    "app": {
        "raw_db": "data/raw.sqlite",
        "duckdb": "data/health.duckdb",
        "timezone": "UTC",
        "user": "me",
        "max_wait_s": 300.0,
        "lock_wait_s": 120.0,
    },
    "oura": {
        "enabled": False,
        "start_date": DEFAULT_START_DATE,
        "base_url": "https://api.ouraring.com",
        "authorize_url": "https://cloud.ouraring.com/oauth/authorize",
        "token_url": "https://api.ouraring.com/oauth/token",
        "client_id": "",
        "client_secret": "",
        "redirect_uri": DEFAULT_REDIRECT_URI,
        "requests_per_minute": 1000,
    },
    "fitbit": {
        "enabled": False,
        "start_date": DEFAULT_START_DATE,
        "base_url": "https://health.googleapis.com",
        "authorize_url": "https://accounts.google.com/o/oauth2/v2/auth",
        "token_url": "https://oauth2.googleapis.com/token",
        "client_id": "",
        "client_secret": "",
        "redirect_uri": DEFAULT_REDIRECT_URI,
        "requests_per_minute": 300,
        "heart_rate_samples": False,
    },
    "withings": {
        "enabled": False,
        "start_date": DEFAULT_START_DATE,
        "base_url": "https://wbsapi.withings.net",
        "authorize_url": "https://account.withings.com/oauth2_user/authorize2",
        "token_url": "https://wbsapi.withings.net/v2/oauth2",
        "client_id": "",
        "client_secret": "",
        "redirect_uri": DEFAULT_REDIRECT_URI,
        "requests_per_minute": 120,
        "intraday": False,
        "high_frequency_sleep": False,
        "meastypes": [],
    },
    "hevy": {
        "enabled": False,
        "start_date": DEFAULT_START_DATE,
        "base_url": "https://api.hevyapp.com",
        "api_key": "",
        "requests_per_minute": 120,
    },
    "victoriametrics": {
        "enabled": False,
        "url": "http://127.0.0.1:8428",
        "username": "",
        "password": "",
        "syncbit_compat": False,
        "extra_labels": {},
        "verify_tls": True,
        "ca_bundle": "",
        "timeout_s": 30.0,
        "syncbit_device": "charge6",
    },
    "summary": {metric: list(providers) for metric, providers in SUMMARY_PRECEDENCE.items()},
}


def find_config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to read: explicit path, then the environment, then the working directory.

    An explicit or environment path must exist; the working-directory file is optional.
    """
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    return local if local.exists() else None


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Find, read and validate the configuration, raising `ConfigError` on any problem."""
    path = find_config_path(explicit)
    if path is None:
        return parse_config({}, None)
    path = path.expanduser().absolute()
    try:
        found = path.is_file()
    except OSError as err:  # a folder on the way that may not be entered
        raise ConfigError(f"{path}: cannot read the config file: {err.strerror or err}") from None
    if not found:
        raise ConfigError(f"{path}: config file not found (pass --config PATH or set {CONFIG_ENV})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read the config file: {err}") from None
    config = parse_config(data, path)
    _warn_if_secrets_readable(path, data)
    _warn_if_password_in_the_clear(config.victoriametrics)
    return config


def parse_config(data: dict[str, Any], path: Path | None, environ: dict[str, str] | None = None) -> Config:
    """Validate parsed TOML (plus environment secrets) into a `Config`."""
    env = os.environ if environ is None else environ
    where = str(path) if path else "(defaults)"

    def fail(section: str, key: str | None, problem: str) -> ConfigError:
        place = f"[{section}] {key}" if key else f"[{section}]"
        return ConfigError(f"{where}: {place}: {problem}")

    for section, value in data.items():
        if section not in DEFAULTS:
            raise ConfigError(f"{where}: unknown section [{section}] (known: {', '.join(DEFAULTS)})")
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: [{section}] must be a table, got {type(value).__name__}")
        for key in value:
            if key not in DEFAULTS[section]:
                raise fail(section, key, f"unknown key (known: {', '.join(DEFAULTS[section])})")

    def raw(section: str, key: str) -> Any:
        if key in SECRET_KEYS:
            from_env = env.get(f"HEALTH_PIPELINE_{section.upper()}_{key.upper()}")
            if from_env:
                return from_env
        return data.get(section, {}).get(key, DEFAULTS[section][key])

    def typed(section: str, key: str, kind: type, check: Callable[[Any], str | None] | None = None) -> Any:
        value = raw(section, key)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise fail(section, key, f"must be a {_type_name(kind)}, got {value!r}")
        problem = check(value) if check else None
        if problem:
            raise fail(section, key, problem)
        return value

    base = path.parent if path else Path.cwd()

    def a_path(section: str, key: str) -> Path:
        value = Path(typed(section, key, str, _non_empty)).expanduser()
        return value if value.is_absolute() else (base / value)

    def a_store(key: str, kind: str, magic: bytes, offset: int) -> Path:
        """A store's file: a new path, or an existing file of its kind (never a folder or another file)."""
        path = a_path("app", key)
        problem = store_file_problem(path, kind, magic, offset)
        if problem:
            raise fail("app", key, problem)
        return path

    def a_date(section: str, key: str) -> date:
        value = raw(section, key)
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        try:
            return date.fromisoformat(str(value)) if isinstance(value, str) and len(value) == 10 else _bad_date()
        except ValueError:
            raise fail(section, key, f"not a date (expected YYYY-MM-DD), got {value!r}") from None

    app = AppConfig(
        raw_db=a_store("raw_db", "SQLite", b"SQLite format 3\x00", 0),
        duckdb=a_store("duckdb", "DuckDB", b"DUCK", 8),
        timezone=typed("app", "timezone", str, timezone_problem),
        user=typed("app", "user", str, _label_value_problem),
        max_wait_s=typed("app", "max_wait_s", float, _positive),
        lock_wait_s=typed("app", "lock_wait_s", float, _positive),
    )

    today = datetime.now(app.tz).date()

    def a_start(section: str) -> date:
        value = a_date(section, "start_date")
        if value > today:
            raise fail(section, "start_date", f"{value} is in the future (today is {today} in {app.timezone})")
        return value

    def oauth(name: str) -> OAuthProviderConfig:
        cfg = OAuthProviderConfig(
            name=name,
            enabled=typed(name, "enabled", bool),
            start_date=a_start(name),
            base_url=typed(name, "base_url", str, _url_problem),
            authorize_url=typed(name, "authorize_url", str, _url_problem),
            token_url=typed(name, "token_url", str, _url_problem),
            client_id=typed(name, "client_id", str),
            client_secret=Secret(typed(name, "client_secret", str)),
            redirect_uri=typed(name, "redirect_uri", str, _url_problem),
            requests_per_minute=typed(name, "requests_per_minute", int, _positive),
            options={key: typed(name, key, bool) for key in OPTIONS.get(name, ())},
            meastypes=_meastypes(typed(name, "meastypes", list), fail) if name == "withings" else (),
        )
        if cfg.enabled:
            if not cfg.client_id:
                raise fail(name, "client_id", "is required when the provider is enabled")
            if not cfg.client_secret:
                raise fail(
                    name, "client_secret",
                    f"is required when the provider is enabled (set it here or in "
                    f"HEALTH_PIPELINE_{name.upper()}_CLIENT_SECRET)",
                )
        return cfg

    hevy = HevyConfig(
        name="hevy",
        enabled=typed("hevy", "enabled", bool),
        start_date=a_start("hevy"),
        base_url=typed("hevy", "base_url", str, _url_problem),
        api_key=Secret(typed("hevy", "api_key", str)),
        requests_per_minute=typed("hevy", "requests_per_minute", int, _positive),
    )
    if hevy.enabled and not hevy.api_key:
        raise fail("hevy", "api_key", "is required when Hevy is enabled (set it here or in HEALTH_PIPELINE_HEVY_API_KEY)")

    def ca_bundle() -> Path | None:
        if not typed("victoriametrics", "ca_bundle", str):
            return None
        bundle = a_path("victoriametrics", "ca_bundle")
        if not bundle.is_file():
            raise fail("victoriametrics", "ca_bundle", f"no such file: {bundle}")
        return bundle

    extra_labels = typed("victoriametrics", "extra_labels", dict)
    for label, value in extra_labels.items():
        problem = _label_name_problem(label) or (
            f"{label!r} is a label the exported series already carry ({', '.join(RESERVED_LABELS)})"
            if label in RESERVED_LABELS else None
        ) or (
            None if isinstance(value, str) and value else f"value of {label!r} must be a non-empty string"
        )
        if problem:
            raise fail("victoriametrics", "extra_labels", problem)
    vm = VictoriaMetricsConfig(
        enabled=typed("victoriametrics", "enabled", bool),
        url=typed("victoriametrics", "url", str, _url_problem),
        username=typed("victoriametrics", "username", str),
        password=Secret(typed("victoriametrics", "password", str)),
        syncbit_compat=typed("victoriametrics", "syncbit_compat", bool),
        extra_labels=dict(extra_labels),
        verify_tls=typed("victoriametrics", "verify_tls", bool),
        timeout_s=typed("victoriametrics", "timeout_s", float, _positive),
        ca_bundle=ca_bundle(),
        syncbit_device=typed("victoriametrics", "syncbit_device", str, _label_value_problem),
    )
    if vm.password and not vm.username:
        raise fail("victoriametrics", "username", "is required when a password is set")

    summary = {metric: _precedence(metric, typed("summary", metric, list), fail) for metric in SUMMARY_PRECEDENCE}

    return Config(
        path=path, app=app, oura=oauth("oura"), fitbit=oauth("fitbit"),
        withings=oauth("withings"), hevy=hevy, victoriametrics=vm, summary=summary,
    )


def _precedence(metric: str, value: list[Any], fail: Callable[[str, str | None, str], ConfigError]) -> tuple[str, ...]:
    """A metric's provider list: known names, no repeats, at least one."""
    unknown = [v for v in value if v not in PROVIDER_NAMES]
    if not value or unknown or len(set(value)) != len(value):
        problem = (f"unknown provider {unknown[0]!r}" if unknown else "lists a provider twice" if value else "is empty")
        raise fail("summary", metric, f"{problem}: give providers best first, from {', '.join(PROVIDER_NAMES)} "
                                      f"(e.g. {list(SUMMARY_PRECEDENCE[metric])!r})")
    return tuple(value)


def _meastypes(value: list[Any], fail: Callable[[str, str | None, str], ConfigError]) -> tuple[int, ...]:
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        raise fail("withings", "meastypes", f"must be a list of Withings measure type ids (e.g. [1, 6, 76]), got {value!r}")
    return tuple(value)


def _bad_date() -> date:
    raise ValueError


def _type_name(kind: type) -> str:
    return {str: "string", bool: "boolean (true/false)", dict: "table", float: "number", int: "whole number",
            list: "list"}.get(
        kind, kind.__name__)


def _non_empty(value: str) -> str | None:
    return None if value.strip() else "must not be empty"


def _positive(value: float) -> str | None:
    if not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    return None if value > 0 else "must be greater than 0"


def timezone_problem(value: str) -> str | None:
    """Why `value` is not an IANA time zone name every part of the pipeline knows (DuckDB included), or None.

    `localtime` and `posixrules` load as zones from the system's files, but they are not IANA
    names: DuckDB does not know them, and their rules follow whatever the machine is set to."""
    if value in _NOT_IANA or value not in _iana_names():
        local = system_timezone()
        hint = f"; this machine's is {local!r}" if local else ""
        if value in _NOT_IANA:
            return f"{value!r} is not an IANA time zone name: give the name itself (e.g. 'Europe/Berlin'){hint}"
        return f"unknown IANA time zone {value!r} (e.g. 'Europe/Berlin'){hint}"
    return None


_NOT_IANA = {"localtime", "posixrules", "Factory", "posix", "right"}


@lru_cache(maxsize=1)
def _iana_names() -> frozenset[str]:
    return frozenset(available_timezones())


def system_timezone() -> str | None:
    """The IANA name of this machine's time zone (`/etc/localtime`'s target, or `/etc/timezone`), if it has one."""
    try:
        target = os.path.realpath("/etc/localtime")
        if "/zoneinfo/" in target:
            name = target.split("/zoneinfo/", 1)[1]
            if name in _iana_names():
                return name
        name = Path("/etc/timezone").read_text(encoding="utf-8").strip()
        return name if name in _iana_names() else None
    except OSError:
        return None


def _url_problem(value: str) -> str | None:
    try:
        parsed = urlparse(value)
        parsed.port  # noqa: B018 - parses the port, raising on a bad one
    except ValueError as err:
        return f"must be an http(s) URL, got {value!r} ({err})"
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return f"must be an http(s) URL, got {value!r}"
    return None


LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")  # Prometheus' label-name syntax: ASCII only


def _label_name_problem(value: str) -> str | None:
    # `é` is accepted by an import, then refused in every selector: the series could never be
    # corrected or deleted.
    ok = LABEL_NAME.fullmatch(value) is not None and not value.startswith("__")
    return None if ok else f"{value!r} is not a valid metric label name (letters a-z, digits and _, not first a digit)"


def redact_url(url: str) -> str:
    """A URL fit to show: a password written into it (`http://user:secret@host`) becomes `***`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def _label_value_problem(value: str) -> str | None:
    return None if value.strip() else "must not be empty (it becomes a metric label)"


def store_file_problem(path: Path, kind: str, magic: bytes, offset: int) -> str | None:
    """Why `path` cannot hold a store of `kind` (a folder, another kind of file, unreadable), or None.
    A missing or empty file is fine: the store is created there."""
    try:
        if path.is_dir():
            return f"{path} is a folder; give the path of a file (it is created if missing)"
        if not path.exists() or path.stat().st_size == 0:
            return None
        with path.open("rb") as handle:
            head = handle.read(offset + len(magic))
    except OSError as err:
        return f"cannot read {path}: {err.strerror or err}"
    if head[offset:offset + len(magic)] != magic:
        return f"{path} is not a {kind} database (another file is there); point it at the store or a new file"
    return None


def _warn_if_password_in_the_clear(vm: VictoriaMetricsConfig) -> None:
    """A password sent over plain http to another machine can be read on the way: say so (not an error)."""
    parts = urlsplit(vm.url)
    if not vm.enabled or parts.scheme != "http" or not (vm.password or parts.password):
        return
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        print(f"health-pipeline: warning: the VictoriaMetrics password goes over plain http to {host}; "
              "use an https URL", file=sys.stderr)


def secrets_readable(path: Path, data: dict[str, Any]) -> bool:
    """Whether the config file holds a secret and other users may read it."""
    has_secret = any(
        isinstance(section, dict) and any(section.get(k) for k in SECRET_KEYS) for section in data.values()
    )
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return has_secret and bool(mode & (stat.S_IRGRP | stat.S_IROTH))


def _warn_if_secrets_readable(path: Path, data: dict[str, Any]) -> None:
    """Secrets in a file others can read deserve a warning (not an error: it is the user's box)."""
    if secrets_readable(path, data):
        print(
            f"health-pipeline: warning: {path} holds secrets and is readable by other users; "
            f"run `chmod 600 {path}`",
            file=sys.stderr,
        )
