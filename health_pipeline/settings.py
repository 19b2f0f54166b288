"""The types a config section is made of: field types with their checks, and the section models
every source's settings subclass (`ProviderConfig`, `OAuthProviderConfig`, `ApiKeyProviderConfig`,
`ImportConfig`), with `[app]` and `[victoriametrics]`.

Each field type carries its check, phrased as the problem a person reads; a section is strict (no
unknown keys, no coercion) and immutable. Reading the file and knowing which sections exist is the
loader's job (health_pipeline/config.py), which is handed the registered sources.
"""

import math
import os
import re
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, ClassVar
from urllib.parse import urlparse, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, available_timezones

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo

SECRET_KEYS = ("client_secret", "api_key", "password")
DEFAULT_START_DATE = date(2024, 1, 1)
DEFAULT_REDIRECT_URI = "http://localhost:8484/callback"
# Labels the exported series carry themselves; `extra_labels` may not redefine them.
RESERVED_LABELS = ("activity", "device", "level", "provider", "segment", "stage", "type", "user", "zone")


# A person's id keys their raw records, tokens, tidy rows and the `user` label of their series, and
# names their cohort's partition in a household: letters, digits, `.`, `_`, `-`, at most 64.
PERSON_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
DEFAULT_PERSON = "me"  # the single-person home's person (`[app] user`'s default)


def person_id_problem(value: str) -> str | None:
    """Why `value` cannot be a person's id, or None."""
    if PERSON_ID.fullmatch(value):
        return None
    return (f"{value!r} is not a person id: use 1 to 64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit (it becomes a metric label and part of partition keys)")


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


class DatabaseUrl(Secret):
    """A database server's URL: shown (`str`, `repr`, logs, `status`) with its password as `***`;
    `reveal()` gives the whole URL to the driver."""

    __slots__ = ()

    def __str__(self) -> str:
        return redact_url(self._value)

    def __repr__(self) -> str:
        return f"DatabaseUrl({redact_url(self._value)!r})"


# PostgreSQL as SQLAlchemy and Dagster write it (`+psycopg2`), and as libpq does.
RAW_DB_SCHEMES = ("postgresql+psycopg2", "postgresql", "postgres")


def is_database_url(value: str) -> bool:
    """Whether a `raw_db` value names a server (a URL) rather than a file."""
    return "://" in value


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


def _names(value: Any) -> Any:
    """A list of names, as a tuple (TOML has lists)."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"must be a list of names, got {value!r}")
    return tuple(value)


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


def _raw_db(value: Any, info: ValidationInfo) -> Path | DatabaseUrl:
    """The raw store: a SQLite file (as `_store_path` checks it), or a PostgreSQL server's URL (kept as a
    `DatabaseUrl`: it may carry a password)."""
    if isinstance(value, DatabaseUrl):
        return value
    if not (isinstance(value, str) and is_database_url(value)):
        return _store_path(value, info)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - parses the port, raising on a bad one
    except ValueError as err:
        raise ValueError(f"is not a URL ({err}): give a SQLite file's path or "
                         "postgresql+psycopg2://USER:PASSWORD@HOST:PORT/DATABASE") from None
    if parts.scheme not in RAW_DB_SCHEMES or not parts.hostname or not parts.path.strip("/"):
        raise ValueError(f"must be a SQLite file's path or postgresql+psycopg2://USER:PASSWORD@HOST:PORT/DATABASE "
                         f"(a host and a database), got {redact_url(value)!r}")
    return DatabaseUrl(value)


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


COORDINATION_SCHEMES = ("redis", "rediss", "postgresql", "postgres")


def _coordination_url(value: Any) -> Secret:
    """Empty, or a Redis or PostgreSQL server's URL (kept as a Secret: it may carry a password)."""
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {type(value).__name__}")
    if value:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - parses the port, raising on a bad one
        except ValueError as err:
            raise ValueError(f"is not a URL ({err})") from None
        if parts.scheme not in COORDINATION_SCHEMES or not parts.hostname:
            raise ValueError(f"must be empty, redis://host:port/db or postgresql://user@host:port/db, "
                             f"got {redact_url(value)!r}")
    return Secret(value)


# Each check runs before the strict type check and leaves other types to it ("must be a string").
Url = Annotated[str, BeforeValidator(_checked(lambda v: _url_problem(v) if isinstance(v, str) else None))]
SecretStr = Annotated[Secret, BeforeValidator(_secret)]
Positive = Annotated[float, BeforeValidator(_checked(lambda v: _positive(v) if _is_number(v) else None))]
PositiveInt = Annotated[int, BeforeValidator(_checked(lambda v: _positive(v) if _is_int(v) else None))]
StartDate = Annotated[date, BeforeValidator(_start_date)]
StorePath = Annotated[Path, BeforeValidator(_store_path)]
LabelValue = Annotated[str, BeforeValidator(_checked(lambda v: _label_value_problem(v) if isinstance(v, str) else None))]
PersonId = Annotated[str, BeforeValidator(_checked(lambda v: person_id_problem(v) if isinstance(v, str) else None))]
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

    secret_keys: ClassVar[tuple[str, ...]] = ("coordination_url", "raw_db")  # a URL may carry a password

    raw_db: Annotated[Path | DatabaseUrl, BeforeValidator(_raw_db)] = Field(Path("data/raw.sqlite"), description=(
        "The raw store: provider JSON kept verbatim, plus sync state and OAuth tokens. A SQLite file (mode "
        "0600; one machine), or postgresql+psycopg2://USER:PASSWORD@HOST:PORT/DATABASE when several machines "
        "sync into one store."))
    duckdb: StorePath = Field(Path("data/health.duckdb"), description="DuckDB file with the tidy tables.")
    timezone: Timezone = Field("UTC", description=(
        "Your IANA time zone: days (partitions, `day` columns, daily metric timestamps) are counted in it."))
    user: PersonId = Field(DEFAULT_PERSON, description=(
        "The person whose data this is when no other people are added (`health-pipeline people`): the "
        "`user` label on their exported metrics and the key of their records."))
    max_wait_s: Positive = Field(300.0, description=(
        "The longest a run waits on a provider's rate limit before failing (resumably) instead."))
    lock_wait_s: Positive = Field(120.0, description=(
        "The longest a run waits for the DuckDB file while another process (a SQL client, another run) "
        "holds it, before failing with a message saying so."))
    coordination_url: Annotated[Secret, BeforeValidator(_coordination_url)] = Field(Secret(""), description=(
        "Where every process and machine syncing for these apps counts the providers' rate windows and "
        "takes the token refresh locks: empty (one machine: each process counts alone), "
        "redis://host:6379/0 or postgresql://user@host:5432/db."))
    duckdb_memory_mb: Annotated[int, Field(ge=64)] = Field(512, description=(
        "The most memory DuckDB may hold while modelling (MiB); past it, it works on disk beside the file "
        "(ten years of per-reading heart rate fit in the default)."))

    cohort_size: PositiveInt = Field(1, description=(
        "People `health-pipeline people add` puts in one cohort (a Dagster partition of people synced in one "
        "run): 1 for a household (each person their own), 25-50 for a study of hundreds."))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class PersonConfig(Section):
    """A person listed in the config file (`[people.<id>]`); everyone else is added with `health-pipeline people add`."""

    timezone: Timezone | None = Field(None, description="Their IANA time zone (default: `[app] timezone`).")
    start_date: StartDate | None = Field(None, description="Their first day to backfill (default: each source's).")
    sources: Annotated[tuple[str, ...] | None, BeforeValidator(_names)] = Field(None, description=(
        "The sources they use (default: every enabled one)."))
    cohort: PersonId | None = Field(None, description="Their cohort (default: their own id).")


class ProviderConfig(Section):
    """What every source's section has; each source's package subclasses it with its own keys and defaults."""

    name: ClassVar[str] = ""  # the section's name, the source's name (`oura`)
    title: ClassVar[str] = ""  # how a person names the source (`Oura`)
    enabled: bool = Field(False, description="Sync this source (its schedules or sensor, `health-pipeline sync`).")
    start_date: StartDate = Field(DEFAULT_START_DATE, description="First day to backfill (YYYY-MM-DD).")
    base_url: Url = Field("", description="The API's root, as the provider documents it (the client adds the paths).")
    requests_per_minute: PositiveInt = Field(60, description="Requests per minute this tool allows itself.")


class OAuthProviderConfig(ProviderConfig):
    """A source reached with OAuth2 (its client registered by the user)."""

    secret_keys: ClassVar[tuple[str, ...]] = ("client_secret",)
    authorize_url: Url = Field("", description="The provider's OAuth2 authorization page.")
    token_url: Url = Field("", description="The provider's OAuth2 token endpoint.")
    client_id: str = Field("", description="Your OAuth2 client, registered with the provider (required when enabled).")
    client_secret: SecretStr = Field(Secret(""), description="Its secret.")
    redirect_uri: Url = Field(DEFAULT_REDIRECT_URI, description=(
        "Where the provider sends you back after authorising (`health-pipeline auth`); as registered with it."))

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
    api_key: SecretStr = Field(Secret(""), description="Your API key (required when enabled).")

    def problem(self) -> tuple[str, str] | None:
        if self.enabled and not self.api_key:
            return "api_key", (f"is required when {self.title} is enabled (set it here or in "
                               f"HEALTH_PIPELINE_{self.name.upper()}_API_KEY)")
        return None


class ImportConfig(Section):
    """What every importer's section has: the export to read (a file or folder; "" for none). Relative
    paths are resolved against the config file's folder; the CLI and the launchpad can name another."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    path: str = Field("", description=(
        "The export to read (a file or folder), relative to this file; the command line or the launchpad may "
        "name another."))


def table_names(allowed: tuple[str, ...], what: str) -> Callable[[Any], tuple[str, ...]]:
    """A validator of an import's `archive_wins`: a list of the tidy tables `what` (an export) feeds."""

    def check(value: Any) -> tuple[str, ...]:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"must be a list of tidy table names, got {value!r}")
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise ValueError(f"unknown table {unknown[0]!r} ({what} feeds: {', '.join(allowed)})")
        return tuple(value)
    return check


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
    enabled: bool = Field(False, description="Export the tidy tables to VictoriaMetrics.")
    url: Url = Field("http://127.0.0.1:8428", description="The server (or a proxy before it).")
    username: str = Field("", description="Basic auth, when the server runs with -httpAuth.username / -httpAuth.password.")
    password: SecretStr = Field(Secret(""), description="Its password.")
    syncbit_compat: bool = Field(False, description=(
        "Also write the Fitbit series under SyncBit's metric names and labels, for existing dashboards."))
    syncbit_device: LabelValue = Field("charge6", description="SyncBit's fixed `device` label on those series.")
    extra_labels: Annotated[dict[str, str], BeforeValidator(_extra_labels)] = Field(
        default_factory=dict, description='Labels added to every series, e.g. { host = "nas" }.')
    verify_tls: bool = Field(True, description="HTTPS: verify the server's certificate.")
    ca_bundle: Annotated[Path | None, BeforeValidator(_ca_bundle)] = Field(None, description=(
        "A CA file to verify it against, when the certificate is private (self-signed)."))
    timeout_s: Positive = Field(30.0, description="Seconds to wait for one request.")

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
