"""What a source declares, and the registry's type: the records each source package exports, as data.

The words, one meaning each, everywhere in the code:

- **source**: anything that lands raw data, one package under `health_pipeline/sources/`: a
  provider's API (`ApiSource`: Oura, Fitbit, Withings, Hevy) or a file import (`ImportSource`: a
  Fitbit export, a health-sync database). `health_pipeline/registry.py` lists them.
- **provider**: the value of the `provider` column in the raw store and the tidy tables, and of the
  `provider` label. An API source lands and models under its own name; an import lands under its
  own name and models as a provider's data (`fitbit_takeout` rows are `fitbit`), or lands straight
  into a provider's resources (health-sync).
- **resource**: one endpoint of an API, or one file family of an export; the raw store keys each
  record by (provider, resource, record id).
- **person**: whose data it is; today one person, named by `[app] user`.

A source declares what it is; the framework builds its Dagster assets, sensor, tidy models,
lineage and sandbox mount from the declaration. Nothing here imports a source, the registry or the
framework that consumes it.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from typing import Any, Literal

from health_pipeline.providers.oauth import OAuthProfile
from health_pipeline.settings import AppConfig, ImportConfig, ProviderConfig
from health_pipeline.storage.raw_store import RawRecord, RawStore

Driver = Literal["daily", "changes"]
TidyDriver = Literal["window", "changes"]


@dataclass(frozen=True)
class TidyInput:
    """Raw resources of the source feeding one tidy table, modelled by the source's `tidy/<table>.sql`."""

    table: str
    resources: tuple[str, ...]
    driver: TidyDriver
    option: str | None = None  # the config switch that turns the raw asset on (none: always there)


@dataclass(frozen=True)
class Probe:
    """`doctor`'s one cheap authenticated request: what it asks, and how (given a client and today)."""

    what: str
    call: Callable[[Any, date], object]
    answer: Callable[[Any], str] = lambda result: "answered"  # what the answer says, for a person


# -- how an API source's resources are kept current ---------------------------------------------------


@dataclass(frozen=True)
class Unsettled:
    """Records the provider has not finished with (WHOOP's `score_state` PENDING_SCORE): their days are
    fetched again, whatever their age, until the provider settles them or `for_days` have passed."""

    path: str  # a JSON path into the payload (`$.score_state`)
    values: tuple[str, ...]  # the values meaning "not final yet" (`PENDING_SCORE`)
    for_days: int = 30  # after this many days a record is taken as it is (the provider will not come back to it)


@dataclass(frozen=True)
class DailyResource:
    """A resource fetched by local days: one daily-partitioned landing asset, a date range in one run,
    through the client's `fetch_window(resource, start, end)`. Each run lands its days whole: what the
    provider no longer has in them is tombstoned."""

    resource: str
    endpoint: str  # the request it comes from, for lineage (`GET /v2/usercollection/sleep`)
    description: str
    metadata: Mapping[str, Any] = field(default_factory=dict)
    option: str | None = None  # the `[source]` switch that turns it on (None: always on)
    unsettled: Unsettled | None = None  # records to come back for (their days revisited by a sensor)


@dataclass(frozen=True)
class SnapshotResource:
    """A resource refreshed whole, daily (profile and reference data): what vanished is tombstoned."""

    resource: str
    endpoint: str
    description: str


@dataclass(frozen=True)
class Changes:
    """What a change feed (or a window of days) answered, and how it lands: records merged by id, the
    ids it names deleted or retired tombstoned, and with `days` the whole truth for those local days
    (a re-listing: what it no longer holds there is tombstoned)."""

    records: Sequence[RawRecord]  # new or changed records: merged by id
    deleted: Sequence[str] = ()  # ids the provider says were deleted: tombstoned
    retired: Sequence[str] = ()  # ids the records replace under new ids: tombstoned
    newest: datetime | None = None  # the newest change among them (None: none, or not known)
    days: tuple[date, date] | None = None  # first and last local day the records cover whole
    # Called once the records are committed (Polar's transactions: committing deletes them at Polar, so
    # only after they landed; a crash in between re-delivers them, and landing is idempotent).
    after_landing: Callable[[], None] | None = None


@dataclass(frozen=True)
class PositionFormat:
    """How a cursor's position (an instant) is written in the raw store's `sync_state` and run keys."""

    encode: Callable[[datetime], str]
    decode: Callable[[str], datetime]


UNIX_SECONDS = PositionFormat(encode=lambda at: str(int(at.timestamp())),
                              decode=lambda text: datetime.fromtimestamp(int(text), timezone.utc))
ISO_INSTANT = PositionFormat(encode=lambda at: at.isoformat(), decode=datetime.fromisoformat)


@dataclass(frozen=True)
class FollowUp:
    """Records fetched one by one for each live record of another resource (Strava: an activity's detail,
    laps, zones, streams): for every parent without one, or changed since it was fetched, as many as the
    quota allows in a run; the next run fetches the rest. A deleted parent's record is tombstoned.
    `fetch(client, parent)` answers the record, or None when the provider has none for it (kept as
    such, not asked again until the parent changes)."""

    resource: str
    of: str  # the parent resource
    endpoint: str
    description: str
    fetch: Callable[[Any, Any], Any]  # (client, StoredRecord of the parent) -> its JSON payload, or None
    option: str | None = None  # the `[source]` switch that turns it on (None: always on)


@dataclass(frozen=True)
class CursorResource:
    """A resource kept current by its source's cursor: one unpartitioned landing asset."""

    resource: str
    endpoint: str
    description: str


@dataclass(frozen=True)
class Cursor:
    """How a change-driven source is kept current (the shared cursor builder makes its assets and sensor).

    The raw store's watermark per resource is the position: the newest change landed. A sync reads
    the changes since the position less `margin` (late writes on the provider's side) and lands them
    with the new position in one transaction. The first sync lands `first`: the days since
    `start_date` whole (`window`), or every change since then (`changes`, records of earlier days
    left out). `health-pipeline sync --start --end` lands those days whole (`window`: what the
    provider no longer has in them is tombstoned), then follows the changes as usual. The sensor
    asks `newest` (one cheap request per resource) and requests a run only when something is newer.
    """

    resources: tuple[CursorResource, ...]
    changes: Callable[[Any, str, datetime], Changes]  # (client, resource, since) -> what changed after `since`
    # (client, resource, first, last day) -> their records; `Changes.days` names the days the answer holds
    # whole (what it no longer has there is tombstoned; None: nothing is)
    window: Callable[[Any, str, date, date], Changes]
    newest: Callable[[Any, str, datetime], datetime | None]  # (client, resource, position) -> a newer change, if any
    margin: timedelta = timedelta(0)
    first: Literal["window", "changes"] = "window"
    position: PositionFormat = UNIX_SECONDS
    # How often everything since start_date is re-listed whole (deletions the change feed does not show;
    # Strava lists 200 activities a request); None: never.
    relist_every: timedelta | None = None
    asks: str = "one cheap request per resource"  # what the sensor asks the provider, for the UI
    nothing_new: str = ""  # the sensor's skip reason when nothing changed (default: says so for the source)

    def landed(self, store: RawStore, provider: str, resource: str) -> datetime | None:
        """The position landed for a resource (None before its first sync)."""
        state = store.sync_state(provider, resource)
        return self.position.decode(state[0]) if state and state[0] else None


# -- the sources --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiSource:
    """A provider's API and everything the pipeline needs of it."""

    name: str  # config section, raw-store provider, asset prefix and group (`oura`)
    package: str  # its Python package (`__name__`): where its `tidy/` SQL and its `sandbox/` fake live
    settings: type[ProviderConfig]  # its typed config section, defaults included
    build_client: Callable[[Any, AppConfig, RawStore | None], Any]  # (its settings, [app], token store)
    probe: Probe
    oauth: OAuthProfile | None = None  # None: the config holds an API key (`api_key`)
    daily: tuple[DailyResource, ...] = ()
    snapshots: tuple[SnapshotResource, ...] = ()
    snapshot: Callable[[Any, str], list[RawRecord]] | None = None  # (client, resource) -> every record
    cursor: Cursor | None = None
    follow_ups: tuple[FollowUp, ...] = ()
    skip_errors: tuple[type[Exception], ...] = ()  # a daily resource failing so is skipped (partial consent)
    tidy: tuple[TidyInput, ...] = ()
    # daily_summary metrics the source can supply, with its default rank (lower wins; `[summary]` overrides)
    summary: Mapping[str, int] = field(default_factory=dict)
    # `check_settings(settings)`: a refusal (raises) before authorising, e.g. a retired API's URL
    check_settings: Callable[[Any], None] = lambda settings: None
    # `after_authorize(client, answer)`: what the provider needs once tokens are stored (Polar: the user's
    # registration, with the token answer's `x_user_id`); returns a line for the person.
    after_authorize: Callable[[Any, Mapping[str, Any]], str] | None = None

    @property
    def title(self) -> str:
        """How a person names it (`Oura`)."""
        return self.settings.title

    @property
    def driven_by(self) -> Driver:
        """How it is mainly kept current: a change cursor (a sensor) when it has one, else daily partitions
        (schedules, backfills). A source with both (Polar) has its daily resources scheduled too."""
        return "changes" if self.cursor is not None else "daily"

    @property
    def pool(self) -> str:
        """The Dagster concurrency pool its landing assets share (one request stream per provider)."""
        return f"{self.name}_api"

    @property
    def uses_oauth(self) -> bool:
        return self.oauth is not None

    def daily_resources(self, settings: ProviderConfig | None = None) -> tuple[DailyResource, ...]:
        """Its daily resources: every one without `settings`, else those switched on."""
        return tuple(r for r in self.daily
                     if settings is None or r.option is None or getattr(settings, r.option, False))

    def follow_up_resources(self, settings: ProviderConfig | None = None) -> tuple[FollowUp, ...]:
        """Its follow-ups: every one without `settings`, else those switched on."""
        return tuple(r for r in self.follow_ups
                     if settings is None or r.option is None or getattr(settings, r.option, False))

    @cached_property
    def endpoints(self) -> dict[str, str]:
        """Resource -> the request it comes from, for lineage."""
        found: dict[str, str] = {r.resource: r.endpoint for r in (*self.daily, *self.snapshots, *self.follow_ups)}
        found.update({r.resource: r.endpoint for r in (self.cursor.resources if self.cursor else ())})
        return found


@dataclass(frozen=True)
class ImportRun:
    """What an import is handed: the export, the raw store, the user's calendar, and how to report."""

    path: Any  # pathlib.Path of the export
    store: RawStore
    app: AppConfig
    settings: ImportConfig
    tags: Mapping[str, str]  # the run's tags (`health/take_tokens`)
    progress: Callable[[int, int, str], None]  # (bytes read, bytes in all, file) as it reads
    log: Callable[[str], None]  # a line for the run's log
    warn: Callable[[str], None]
    # (provider, resource, day): a day the import brought is recorded as materialized for that landing asset
    materialized: Callable[[str, str, date], None]
    start_dates: Mapping[str, date] = field(default_factory=dict)  # each API source's `start_date`


@dataclass(frozen=True)
class ImportSource:
    """A file import: a user's export (an archive, another tool's database) read into the raw store as
    one Dagster asset (`import_<name>`) and the command `health-pipeline import <name>`."""

    name: str  # config section, asset name, raw-store provider of its own records (`fitbit_takeout`)
    package: str
    settings: type[ImportConfig]
    description: str  # what the asset does, for the UI
    read: Callable[[ImportRun], dict[str, object]]  # lands the export, returns the run's metadata
    refuses: tuple[type[Exception], ...] = ()  # errors meaning "this file cannot be read": one line, no retry
    # `models_as`: the provider whose tidy rows its records become (a Takeout archive is Fitbit data).
    models_as: str = ""
    tidy: tuple[TidyInput, ...] = ()
    lands_as: tuple[str, ...] = ()  # providers whose own resources it writes (health-sync: Oura, Withings, Hevy)
    # daily_summary metrics its own provider (`models_as`, when no API source has that name) can supply,
    # with its default rank (lower wins; `[summary]` overrides)
    summary: Mapping[str, int] = field(default_factory=dict)
    help: str = ""  # the `health-pipeline import <name>` command's one-line help

    @property
    def title(self) -> str:
        return self.settings.title

    @property
    def asset(self) -> str:
        """The import asset's name (also its key)."""
        return f"import_{self.name}"


Source = ApiSource | ImportSource


@dataclass(frozen=True, eq=False)  # compared (and hashed, for caches) by identity
class Registry:
    """The registered sources, in the order they are listed (config file, `status`, tidy tables).

    Entry points build one (health_pipeline/registry.py) and hand it to the framework."""

    sources: tuple[Source, ...]

    def __post_init__(self) -> None:
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise ValueError(f"a source is registered twice: {names}")

    @property
    def apis(self) -> tuple[ApiSource, ...]:
        return tuple(s for s in self.sources if isinstance(s, ApiSource))

    @property
    def imports(self) -> tuple[ImportSource, ...]:
        return tuple(s for s in self.sources if isinstance(s, ImportSource))

    def api(self, name: str) -> ApiSource:
        """The API source called `name` (a `KeyError` naming the known ones otherwise)."""
        for source in self.apis:
            if source.name == name:
                return source
        raise KeyError(f"unknown source {name!r}; known: {', '.join(s.name for s in self.apis)}")

    def importer(self, name: str) -> ImportSource:
        """The import called `name` (a `KeyError` naming the known ones otherwise)."""
        for source in self.imports:
            if source.name == name:
                return source
        raise KeyError(f"unknown import {name!r}; known: {', '.join(s.name for s in self.imports)}")

    def api_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.apis)

    def titles(self, driven_by: Driver | None = None) -> str:
        """The API sources' names as a person reads them (`Oura, Fitbit, Withings and Hevy`), or those driven one way."""
        names = [s.title for s in self.apis if driven_by is None or s.driven_by == driven_by]
        return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)

    @property
    def pools(self) -> tuple[str, ...]:
        """Every Dagster pool: one client per provider API, one writer per store."""
        return (*(source.pool for source in self.apis), "raw_store", "duckdb")

    def endpoint(self, provider: str, resource: str) -> str:
        """The request (or export file) a stored resource comes from (`GET /v2/usercollection/sleep`)."""
        for source in self.imports:
            if source.name == provider:
                return f"{source.title}: {resource} files"
        return self.api(provider).endpoints[resource]
