"""The user's configuration: `health-pipeline.toml`, validated into typed, immutable objects.

Where the file is found: `--config PATH`, else `$HEALTH_PIPELINE_CONFIG`, else
`./health-pipeline.toml`. With none of those, every key takes its default (all providers off).
Each section is a pydantic model holding its keys' types and defaults, the one place they are
written: `[app]`, `[victoriametrics]`, `[summary]` here, each source's own section in its package
(health_pipeline/sources/<name>/), found through the registry. Secrets may come from the environment (`HEALTH_PIPELINE_<SECTION>_<KEY>`, e.g.
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar
from urllib.parse import urlparse, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, available_timezones

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo

if TYPE_CHECKING:
    from health_pipeline.sources.base import Importer, Source

CONFIG_ENV = "HEALTH_PIPELINE_CONFIG"
DEFAULT_CONFIG_NAME = "health-pipeline.toml"
SECRET_KEYS = ("client_secret", "api_key", "password")
DEFAULT_START_DATE = date(2024, 1, 1)
DEFAULT_REDIRECT_URI = "http://localhost:8484/callback"
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


# ---- field types: each carries its check, phrased as the problem a person reads -------------------


def _checked(problem: Callable[[Any], str | None]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        found = problem(value)
        if found:
            raise ValueError(found)
        return value
    return check


def _secret(value: Any) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {value!r}")
    return Secret(value)


def _start_date(value: Any, info: ValidationInfo) -> date:
    if isinstance(value, str) and len(value) == 10:
        try:
            value = date.fromisoformat(value)
        except ValueError:
            pass
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValueError(f"not a date (expected YYYY-MM-DD), got {value!r}")
    today, zone = (info.context or {}).get("today"), (info.context or {}).get("timezone")
    if today is not None and value > today:
        raise ValueError(f"{value} is in the future (today is {today} in {zone})")
    return value


def _relative_path(value: Any, info: ValidationInfo) -> Path:
    """A path as written, relative to the config file's folder."""
    if not isinstance(value, (str, Path)) or not str(value).strip():
        raise ValueError("must not be empty" if isinstance(value, str) else f"must be a string, got {value!r}")
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path((info.context or {}).get("base", Path.cwd())) / path


_STORE_KINDS = {"raw_db": ("SQLite", b"SQLite format 3\x00", 0), "duckdb": ("DuckDB", b"DUCK", 8)}


def _store_path(value: Any, info: ValidationInfo) -> Path:
    """A store's file: a new path, or an existing file of its kind (never a folder or another file)."""
    path = _relative_path(value, info)
    problem = store_file_problem(path, *_STORE_KINDS[info.field_name or ""])
    if problem:
        raise ValueError(problem)
    return path


def _extra_labels(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError(f"must be a table, got {value!r}")
    for label, text in value.items():
        problem = _label_name_problem(label) or (
            f"{label!r} is a label the exported series already carry ({', '.join(RESERVED_LABELS)})"
            if label in RESERVED_LABELS else None
        ) or (None if isinstance(text, str) and text else f"value of {label!r} must be a non-empty string")
        if problem:
            raise ValueError(problem)
    return dict(value)


# Each check runs before the strict type check and leaves other types to it ("must be a string").
Url = Annotated[str, BeforeValidator(_checked(lambda v: _url_problem(v) if isinstance(v, str) else None))]
SecretStr = Annotated[Secret, BeforeValidator(_secret)]
Positive = Annotated[float, BeforeValidator(_checked(lambda v: _positive(v) if _is_number(v) else None))]
PositiveInt = Annotated[int, BeforeValidator(_checked(lambda v: _positive(v) if _is_int(v) else None))]
StartDate = Annotated[date, BeforeValidator(_start_date)]
StorePath = Annotated[Path, BeforeValidator(_store_path)]
LabelValue = Annotated[str, BeforeValidator(_checked(lambda v: _label_value_problem(v) if isinstance(v, str) else None))]
Timezone = Annotated[str, BeforeValidator(_checked(lambda v: timezone_problem(v) if isinstance(v, str) else None))]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Section(BaseModel):
    """One `[section]` of the file: strict types, no unknown keys, immutable; defaults validated too."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, validate_default=True,
                              arbitrary_types_allowed=True)
    secret_keys: ClassVar[tuple[str, ...]] = ()

    def problem(self) -> tuple[str, str] | None:
        """A problem spanning keys (a key required because another is set): (key, problem), or None."""
        return None


class AppConfig(Section):
    """Where the stores live, whose data it is, and the calendar days are counted in."""

    raw_db: StorePath = Path("data/raw.sqlite")
    duckdb: StorePath = Path("data/health.duckdb")
    timezone: Timezone = "UTC"
    user: LabelValue = "me"
    max_wait_s: Positive = 300.0
    lock_wait_s: Positive = 120.0

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ProviderConfig(Section):
    """What every source's section has; each source's package subclasses it with its own keys and defaults."""

    name: ClassVar[str] = ""
    enabled: bool = False
    start_date: StartDate = DEFAULT_START_DATE
    base_url: Url = ""
    requests_per_minute: PositiveInt = 60


class OAuthProviderConfig(ProviderConfig):
    """A source reached with OAuth2 (its client registered by the user)."""

    secret_keys: ClassVar[tuple[str, ...]] = ("client_secret",)
    authorize_url: Url = ""
    token_url: Url = ""
    client_id: str = ""
    client_secret: SecretStr = Secret("")
    redirect_uri: Url = DEFAULT_REDIRECT_URI

    def problem(self) -> tuple[str, str] | None:
        if self.enabled and not self.client_id:
            return "client_id", "is required when the provider is enabled"
        if self.enabled and not self.client_secret:
            return "client_secret", (f"is required when the provider is enabled (set it here or in "
                                     f"HEALTH_PIPELINE_{self.name.upper()}_CLIENT_SECRET)")
        return None


class ApiKeyProviderConfig(ProviderConfig):
    """A source reached with a per-account API key."""

    secret_keys: ClassVar[tuple[str, ...]] = ("api_key",)
    api_key: SecretStr = Secret("")

    def problem(self) -> tuple[str, str] | None:
        if self.enabled and not self.api_key:
            title = next(s.title for s in _registry() if s.name == self.name)
            return "api_key", (f"is required when {title} is enabled (set it here or in "
                               f"HEALTH_PIPELINE_{self.name.upper()}_API_KEY)")
        return None


class ImportConfig(Section):
    """What every importer's section has: the export to read (a file or folder; "" for none). Relative
    paths are resolved against the config file's folder; the CLI and the launchpad can name another."""

    name: ClassVar[str] = ""
    path: str = ""


def _ca_bundle(value: Any, info: ValidationInfo) -> Path | None:
    """A CA certificate file to verify the server with (self-signed setups); "" for none."""
    if value is None or value == "":
        return None
    bundle = _relative_path(value, info)
    if not bundle.is_file():
        raise ValueError(f"no such file: {bundle}")
    return bundle


class VictoriaMetricsConfig(Section):
    """The VictoriaMetrics server the metrics are exported to."""

    secret_keys: ClassVar[tuple[str, ...]] = ("password",)
    enabled: bool = False
    url: Url = "http://127.0.0.1:8428"
    username: str = ""
    password: SecretStr = Secret("")
    syncbit_compat: bool = False
    syncbit_device: LabelValue = "charge6"  # SyncBit's fixed `device` label
    extra_labels: Annotated[dict[str, str], BeforeValidator(_extra_labels)] = Field(default_factory=dict)
    verify_tls: bool = True
    ca_bundle: Annotated[Path | None, BeforeValidator(_ca_bundle)] = None
    timeout_s: Positive = 30.0

    def problem(self) -> tuple[str, str] | None:
        if self.password and not self.username:
            return "username", "is required when a password is set"
        return None

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
    """The whole validated configuration; `path` is None when defaults were used.

    Each source's section is `config.provider(name)` (also `config.<name>`)."""

    path: Path | None
    app: AppConfig
    victoriametrics: VictoriaMetricsConfig
    sources: Mapping[str, ProviderConfig]
    summary: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    imports: Mapping[str, "ImportConfig"] = field(default_factory=dict)  # each importer's section

    @property
    def base_dir(self) -> Path:
        """The folder relative paths are resolved against."""
        return self.path.parent if self.path else Path.cwd()

    def provider(self, name: str) -> ProviderConfig:
        if name not in self.sources:
            raise ConfigError(f"unknown provider {name!r}; choose one of {', '.join(self.sources)}")
        return self.sources[name]

    def importer(self, name: str) -> "ImportConfig":
        return self.imports[name]

    def __getattr__(self, name: str) -> Any:
        for sections in (self.__dict__.get("sources") or {}, self.__dict__.get("imports") or {}):
            if name in sections:
                return sections[name]
        raise AttributeError(name)

    @property
    def enabled_providers(self) -> list[str]:
        return [name for name, settings in self.sources.items() if settings.enabled]


def _registry() -> "tuple[Source, ...]":
    from health_pipeline.sources import SOURCES

    return SOURCES


def _importers() -> "tuple[Importer, ...]":
    from health_pipeline.sources import IMPORTERS

    return IMPORTERS


def source_names() -> tuple[str, ...]:
    """Every source's name, in registry order."""
    return tuple(source.name for source in _registry())


def summary_precedence() -> dict[str, tuple[str, ...]]:
    """daily_summary's default precedence: per metric, the sources that declare it, by their rank."""
    from health_pipeline.tidy.summary import METRICS

    return {metric.name: tuple(s.name for s in sorted((s for s in _registry() if metric.name in s.summary),
                                                      key=lambda s: s.summary[metric.name]))
            for metric in METRICS}


def section_models() -> dict[str, type[Section]]:
    """Every section of the file and its model, in the file's order."""
    return {"app": AppConfig, **{s.name: s.settings for s in _registry()}, **{i.name: i.settings for i in _importers()},
            "victoriametrics": VictoriaMetricsConfig}


def _toml_value(value: Any) -> Any:
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return "" if value is None else value


def defaults() -> dict[str, dict[str, Any]]:
    """Each section's keys and their defaults, as they are written in the file (`health-pipeline.example.toml`)."""
    found = {name: {key: _toml_value(info.get_default(call_default_factory=True))
                    for key, info in model.model_fields.items()}
             for name, model in section_models().items()}
    found["summary"] = {metric: list(providers) for metric, providers in summary_precedence().items()}
    return found


_TYPE_NAMES = {"bool_type": "boolean (true/false)", "string_type": "string", "int_type": "whole number",
               "float_type": "number", "dict_type": "table", "list_type": "list", "tuple_type": "list"}


def _one_problem(err: ValidationError, model: type[Section]) -> tuple[str | None, str]:
    """The first error of a section, as (key, problem)."""
    first = err.errors()[0]
    key = str(first["loc"][0]) if first["loc"] else None
    kind = first["type"]
    if kind == "extra_forbidden":
        return key, f"unknown key (known: {', '.join(model.model_fields)})"
    if kind in _TYPE_NAMES:
        return key, f"must be a {_TYPE_NAMES[kind]}, got {first['input']!r}"
    if kind == "value_error":
        return key, str(first["ctx"]["error"])
    return key, first["msg"]


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


def parse_config(data: dict[str, Any], path: Path | None, environ: Mapping[str, str] | None = None) -> Config:
    """Validate parsed TOML (plus environment secrets) into a `Config`."""
    env = os.environ if environ is None else environ
    where = str(path) if path else "(defaults)"
    models = section_models()
    precedence = summary_precedence()
    known = [*models, "summary"]
    for section, value in data.items():
        if section not in known:
            raise ConfigError(f"{where}: unknown section [{section}] (known: {', '.join(known)})")
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: [{section}] must be a table, got {type(value).__name__}")
    context: dict[str, Any] = {"base": path.parent if path else Path.cwd()}

    def section(name: str) -> Any:
        model = models[name]
        values = dict(data.get(name, {}))
        for key in model.secret_keys:
            from_env = env.get(f"HEALTH_PIPELINE_{name.upper()}_{key.upper()}")
            if from_env:
                values[key] = from_env
        try:
            parsed = model.model_validate(values, context=context)
        except ValidationError as err:
            key, problem = _one_problem(err, model)
            raise ConfigError(f"{where}: [{name}] {key}: {problem}" if key else f"{where}: [{name}]: {problem}") from None
        found = parsed.problem()
        if found:
            raise ConfigError(f"{where}: [{name}] {found[0]}: {found[1]}")
        return parsed

    app = section("app")
    context.update(today=datetime.now(app.tz).date(), timezone=app.timezone)
    importers = {i.name for i in _importers()}
    sources = {name: section(name) for name in models if name not in ("app", "victoriametrics", *importers)}
    imports = {name: section(name) for name in models if name in importers}
    vm = section("victoriametrics")

    summary_data = data.get("summary", {})
    for key in summary_data:
        if key not in precedence:
            raise ConfigError(f"{where}: [summary] {key}: unknown key (known: {', '.join(precedence)})")
    summary = {}
    for metric, default in precedence.items():
        value = summary_data.get(metric, list(default))
        if not isinstance(value, list):
            raise ConfigError(f"{where}: [summary] {metric}: must be a list, got {value!r}")
        summary[metric] = _precedence(metric, value, list(sources), default, where)
    return Config(path=path, app=app, victoriametrics=vm, sources=sources, summary=summary, imports=imports)


def _precedence(metric: str, value: list[Any], names: list[str], default: tuple[str, ...], where: str) -> tuple[str, ...]:
    """A metric's provider list: known names, no repeats, at least one."""
    unknown = [v for v in value if v not in names]
    if not value or unknown or len(set(value)) != len(value):
        problem = (f"unknown provider {unknown[0]!r}" if unknown else "lists a provider twice" if value else "is empty")
        raise ConfigError(f"{where}: [summary] {metric}: {problem}: give providers best first, from "
                          f"{', '.join(names)} (e.g. {list(default)!r})")
    return tuple(value)


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
