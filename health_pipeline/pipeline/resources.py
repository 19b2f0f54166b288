"""The resources: the config (read once per run), one per store, one for VictoriaMetrics, one client per source.

`config` is the one resource that reads the config file; the store and client resources nest it
(Dagster's nested resources: a partial resource shared by key, so one run reads the file once).
Only the file's path and the fingerprint of what the definitions were built from are resource
config, so no secret ever enters Dagster's run config or the UI; secrets are read from the file or
the environment inside the run. A run whose file no longer matches the definitions it was launched
from (the file was edited after the code location loaded) fails in one line saying to reload.

Each is keyed by what it is (`config`, `raw_store`, `tidy_store`, `victoriametrics`, each API
source's name, e.g. `oura`), so an asset's signature says what it uses; `import_progress` says how
an import reports how far it has read (a terminal's progress bar in a CLI run, else the run's log).
"""

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Optional

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from health_pipeline.config import Config, load_config
from health_pipeline.declarations import Registry
from health_pipeline.instance.internals import fingerprint_launched_with
from health_pipeline.naming import COHORT_TAG, PEOPLE_TAG
from health_pipeline.people import Person, everyone, select
from health_pipeline.settings import ConfigError, ProviderConfig, Secret
from health_pipeline.storage.duckdb_store import TidyStore, TidyStoreError, TidyStoreLocked, private
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.storage.victoriametrics import VictoriaMetrics
from health_pipeline.tidy.models import adopt_person, follow_home


class ConfigResource(dg.ConfigurableResource):
    """The config file, read once per run (or sensor tick) and checked against the definitions.

    `registry` (the sources whose sections the file has) is bound per set of definitions by
    `config_resource`: it is code, not config."""

    path: Optional[str] = None  # None: the usual lookup ($HEALTH_PIPELINE_CONFIG, ./health-pipeline.toml)
    config_fingerprint: str = ""  # what the definitions were built from (`Config.fingerprint`)
    registry: ClassVar[Registry] = Registry(())
    _config: Optional[Config] = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        launched = fingerprint_launched_with(context.instance, context.run)
        self._config = self._load(launched or self.config_fingerprint)

    def _load(self, expected: str) -> Config:
        try:
            config = load_config(self.path, self.registry)
        except ConfigError as err:
            raise dg.Failure(description=str(err), allow_retries=False) from None
        if expected and config.fingerprint != expected:
            raise dg.Failure(
                description=f"{config.path or 'the config'} changed since the code location loaded it: reload the "
                            "definitions (Deployment > Reload in the UI, or restart `dagster dev`), then run again",
                allow_retries=False)
        return config

    @property
    def loaded(self) -> Config:
        """The validated config (read now if this resource was built outside a run)."""
        if self._config is None:
            self._config = self._load(self.config_fingerprint)
        return self._config


def config_resource(config: Config) -> ConfigResource:
    """The config resource of definitions built from `config` (its registry bound, its fingerprint recorded)."""
    bound = type("ConfigResource", (ConfigResource,), {"registry": config.registry, "__module__": __name__,
                                                        "__doc__": ConfigResource.__doc__})
    return bound.configure_at_launch(path=str(config.path) if config.path else None,  # type: ignore[return-value]
                                     config_fingerprint=config.fingerprint)


class RawStoreResource(dg.ConfigurableResource):
    """The SQLite raw store: verbatim records, watermarks, tokens; `store()` is the single-person home's
    person's, `people(context)` everyone a run covers and `for_person` each one's."""

    config: ConfigResource
    _store: Optional[RawStore] = PrivateAttr(default=None)

    def store(self) -> RawStore:
        """The raw store, created (or its schema checked) once per resource, not per call."""
        if self._store is None:
            store = self.config.loaded.raw_store()
            store.init()
            store.adopt_home(self.config.loaded.people)  # `[app] user` renamed in a single-person home
            self._store = store
        return self._store

    def for_person(self, person: Person) -> RawStore:
        return self.store().for_person(person.id)

    def people(self, context: Any, source: str | None = None) -> list[Person]:
        """The people a run covers (its `health/people` or `health/cohort` tags; neither: everyone), those
        using `source` when it is given, or a failure naming an unknown id."""
        tags = context.run.tags if getattr(context, "run", None) is not None else {}
        ids = [i for i in tags.get(PEOPLE_TAG, "").split(",") if i]
        cohorts = [c for c in tags.get(COHORT_TAG, "").split(",") if c]
        try:
            chosen = select(everyone(self.config.loaded, self.store()), ids, cohorts)
        except ConfigError as err:
            raise dg.Failure(description=str(err), allow_retries=False) from None
        return [p for p in chosen if source is None or p.uses(source)]


class TidyStoreResource(DuckDBResource):
    """The DuckDB tidy store (dagster-duckdb's resource), opened by one writer at a time.

    DuckDB locks the whole file, so `get_connection` first waits (up to `[app] lock_wait_s`) for
    another process to let go of it, then opens it as DuckDBResource does, in UTC, kept private.
    A file held past the wait fails the step with that one line, not retried: the wait was the
    patience, and the next run tries again."""

    config: ConfigResource

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        path = Path(self.database)
        try:
            TidyStore(path, wait_s=self.config.loaded.app.lock_wait_s).wait_until_free()
        except (TidyStoreLocked, TidyStoreError) as err:
            raise dg.Failure(description=str(err), allow_retries=False) from None
        with super().get_connection() as conn:
            try:  # closed whatever happens: DuckDBResource leaves a connection open when its block raises
                conn.execute("SET TimeZone = 'UTC'")
                conn.execute(f"SET memory_limit = '{int(self.config.loaded.app.duckdb_memory_mb)}MB'")
                private(path)
                config = self.config.loaded
                adopt_person(conn, config.app.user)  # a home from before people: its rows are theirs
                single = not config.people and all(p.origin == "migrated" for p in config.raw_store().people())
                follow_home(conn, config.app.user, single)
                yield conn
            finally:
                conn.close()


class VictoriaMetricsResource(dg.ConfigurableResource):
    """The VictoriaMetrics server the export writes to."""

    config: ConfigResource

    def client(self) -> VictoriaMetrics:
        settings = self.config.loaded.victoriametrics
        if not settings.enabled:
            raise dg.Failure(
                "the VictoriaMetrics export is disabled: set [victoriametrics] enabled = true", allow_retries=False
            )
        return VictoriaMetrics(settings)


class SourceClientResource(dg.ConfigurableResource):
    """One API source's client for a run (keyed by the source's name); its tokens live in the raw store."""

    config: ConfigResource
    source: str
    # One client per run and raw store: its assets share its quota count (a day's quota spent by one
    # asset is spent for the next, without asking the provider again) and its HTTP session.
    _clients: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def settings(self) -> ProviderConfig:
        return self.config.loaded.provider(self.source)

    def settings_for(self, person: Person | None, store: RawStore | None = None) -> ProviderConfig:
        """The section as `person`'s client sees it: their start date; for an API-key source, their own key
        when one is stored for them (`health-pipeline tokens import hevy --person ID`)."""
        settings = self.settings
        if person is None:
            return settings
        update: dict[str, Any] = {"start_date": person.start_for(settings.start_date)}
        if "api_key" in type(settings).model_fields and store is not None:
            token = store.token(self.source)
            if token is not None:
                update["api_key"] = Secret(token.access_token)
            elif person.id != self.config.loaded.app.user:  # the config's key is the home's person's account
                raise dg.Failure(description=(
                    f"{person.id}: no {self.source} API key of theirs is stored (the one in the config is "
                    f"{self.config.loaded.app.user}'s): `health-pipeline tokens import {self.source} --person "
                    f"{person.id} --access-token KEY`"), allow_retries=False)
        return settings.model_copy(update=update)

    def client(self, store: RawStore, person: Person | None = None) -> Any:
        """The client of `store`'s person (their tokens, their time zone; `person` as resolved for the run)."""
        if not self.settings.enabled:
            raise dg.Failure(f"{self.source} is disabled: set [{self.source}] enabled = true in the config file",
                             allow_retries=False)
        key = f"{store.location}#{store.person}"
        if key not in self._clients:
            config = self.config.loaded
            app = person.app(config.app) if person is not None else config.app
            self._clients[key] = config.registry.api(self.source).build_client(
                self.settings_for(person, store), app, store)
        return self._clients[key]


class ImportProgress:
    """How an import reports how far it has read: `draw` (the CLI's progress bar on a terminal), else a
    line in the run's log at every tenth."""

    def __init__(self, draw: Callable[[int, int, str], None] | None = None) -> None:
        self.draw = draw

    def reporter(self, log: Callable[[str], None], path: Path) -> Callable[[int, int, str], None]:
        said = [0]

        def progress(done: int, total: int, name: str) -> None:
            if self.draw is not None:
                self.draw(done, total, name)
                return
            percent = done * 100 // max(1, total)
            if percent >= said[0] + 10:
                said[0] = percent - percent % 10
                log(f"{path.name}: {percent} % read ({name.rsplit('/', 1)[-1]})")

        return progress


def resources_for(config: Config, progress: ImportProgress | None = None) -> dict[str, Any]:
    """Every resource of definitions built from `config`, the nested config resource shared by all."""
    shared = config_resource(config)
    return {
        "config": shared,
        "raw_store": RawStoreResource(config=shared),
        "tidy_store": TidyStoreResource(config=shared, database=str(config.app.duckdb)),
        "victoriametrics": VictoriaMetricsResource(config=shared),
        "import_progress": progress or ImportProgress(),
        **{s.name: SourceClientResource(config=shared, source=s.name) for s in config.registry.apis},
    }


def with_client_param(fn: Callable[..., Any], source: str) -> Callable[..., Any]:
    """`fn(context, raw_store, **clients)` with a signature naming its client resource after the source
    (`oura: SourceClientResource`): a shared builder's asset or sensor then declares, as a typed
    parameter, the one client it uses. Dagster reads resource parameters from the signature."""
    context, *rest = inspect.signature(fn).parameters.values()
    params = [context, *(p for p in rest if p.kind is not inspect.Parameter.VAR_KEYWORD),
              inspect.Parameter(source, inspect.Parameter.KEYWORD_ONLY, annotation=SourceClientResource)]
    fn.__signature__ = inspect.Signature(params, return_annotation=inspect.signature(fn).return_annotation)  # type: ignore[attr-defined]
    return fn
