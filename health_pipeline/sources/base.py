"""What a source declares, in one place: the `Source` record each source package exports as `SOURCE`.

The rest of the project (config, definitions, schedules, sensors, `sync`, `doctor`, the demo,
the sandbox, the tidy catalogue) iterates over `health_pipeline.sources.SOURCES` and asks each
source through these fields; none of it names a source. The heavy parts (Dagster assets, the
sandbox's fake API) are built by functions the source package imports when they are called, so
reading the registry (the config does) stays cheap.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import dagster as dg

    from health_pipeline.config import AppConfig, ImportConfig, ProviderConfig
    from health_pipeline.providers.oauth import OAuthProfile
    from health_pipeline.storage.raw_store import RawStore

Driver = Literal["daily", "changes"]
TidyDriver = Literal["window", "changes"]


@dataclass(frozen=True)
class TidyInput:
    """Raw resources of the source feeding one tidy table, modelled by `tidy/sources/{table}__{source}.sql`."""

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


@dataclass(frozen=True)
class SandboxApp:
    """The source's fake API in the sandbox: the path prefix it is served under, and how it is built
    from the sandbox world; `config_text` writes the source's config section pointing at it."""

    mount: str
    build: Callable[[Any], Any]
    config_text: Callable[[str, date], str]


@dataclass(frozen=True)
class Source:
    """One source: a provider API (or, later, a file importer) and everything the pipeline needs of it."""

    name: str  # config section, raw-store provider, asset prefix and group (`oura`)
    title: str  # how a person names it (`Oura`)
    settings: "type[ProviderConfig]"  # its typed config section, defaults included
    driven_by: Driver  # daily partitions (schedules, backfills) or a change cursor (a sensor)
    build_client: "Callable[[ProviderConfig, AppConfig, RawStore], Any]"
    build_assets: "Callable[[ProviderConfig, dg.PartitionsDefinition], list[dg.AssetsDefinition]]"
    probe: Probe
    endpoint_of: Callable[[str], str]  # resource -> the request it comes from (`GET /v2/...`), for lineage
    sandbox: SandboxApp
    oauth: "OAuthProfile | None" = None  # None: the config holds an API key (`api_key`)
    build_sensors: "Callable[[], list[dg.SensorDefinition]]" = lambda: []
    # Its landing assets by how they are kept current: daily-partitioned (the schedules, backfills),
    # switched-on optional daily ones, change-driven (its sensor; a sync asks), profile and
    # reference data (refreshed whole, daily).
    daily_keys: "Callable[[], list[dg.AssetKey]]" = lambda: []
    optional_keys: "Callable[[ProviderConfig], list[dg.AssetKey]]" = lambda settings: []
    change_keys: "Callable[[], list[dg.AssetKey]]" = lambda: []
    reference_keys: "Callable[[], list[dg.AssetKey]]" = lambda: []
    tidy: tuple[TidyInput, ...] = ()
    # daily_summary metrics the source can supply, with its default rank (lower wins; `[summary]` overrides)
    summary: Mapping[str, int] = field(default_factory=dict)
    # `check_settings(settings)`: a refusal (raises) before authorising, e.g. a retired API's URL
    check_settings: "Callable[[ProviderConfig], None]" = lambda settings: None

    @property
    def pool(self) -> str:
        """The Dagster concurrency pool its landing assets share (one request stream per provider)."""
        return f"{self.name}_api"

    @property
    def uses_oauth(self) -> bool:
        return self.oauth is not None


def oauth_sandbox_section(name: str, base_url: str, authorize_path: str, token_path: str, start: date,
                          more: str = "") -> str:
    """An OAuth source's config section pointing at its fake in the sandbox (client `sandbox`)."""
    return (f'[{name}]\nenabled = true\nstart_date = "{start}"\nbase_url = "{base_url}"\n'
            f'authorize_url = "{base_url}{authorize_path}"\ntoken_url = "{base_url}{token_path}"\n'
            f'client_id = "sandbox"\nclient_secret = "sandbox-secret"\n{more}\n')


@dataclass(frozen=True)
class Importer:
    """A file importer: reads a user's export (an archive, another tool's database) into the raw
    store, as one Dagster asset; its records are modelled like a provider's live data."""

    name: str  # config section, asset name, raw-store provider of its own records (`fitbit_takeout`)
    title: str  # how a person names it (`Fitbit Takeout archive`)
    settings: "type[ImportConfig]"
    build_assets: "Callable[[ImportConfig], list[dg.AssetsDefinition]]"
    # `models_as`: the provider whose tidy rows its records become (a Takeout archive is Fitbit data).
    models_as: str = ""
    tidy: tuple[TidyInput, ...] = ()
    lands_as: tuple[str, ...] = ()  # providers whose own resources it writes (health-sync: Oura, Withings, Hevy)
    help: str = ""  # the `health-pipeline import <name>` command's one-line help

    @property
    def asset(self) -> str:
        """The import asset's name (also its key)."""
        return f"import_{self.name}"
