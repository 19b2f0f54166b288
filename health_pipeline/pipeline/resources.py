"""The resources: one per store (raw store, tidy store), one for VictoriaMetrics, one client per source.

Each is keyed by what it is (`raw_store`, `tidy_store`, `victoriametrics`, and each source's
name, e.g. `oura`), so an asset's signature (or its required resource keys) says what it uses.
Only the config file's path is resource config, so no secret ever enters Dagster's run config
or the UI; secrets are read from the file or the environment inside the run. Each resource
loads the config once per run.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from health_pipeline.config import Config, ProviderConfig, load_config
from health_pipeline.storage.duckdb_store import TidyStore, TidyStoreError, TidyStoreLocked
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.storage.victoriametrics import VictoriaMetrics


class ConfigFileResource(dg.ConfigurableResource):
    """What every resource shares: the config file it reads inside the run (None: the usual lookup)."""

    config_path: Optional[str] = None
    _config: Optional[Config] = PrivateAttr(default=None)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


class RawStoreResource(ConfigFileResource):
    """The SQLite raw store: verbatim records, watermarks, tokens."""

    _store: Optional[RawStore] = PrivateAttr(default=None)

    def store(self) -> RawStore:
        """The raw store, created (or its schema checked) once per resource, not per call."""
        if self._store is None:
            store = RawStore(self.config.app.raw_db)
            store.init()
            self._store = store
        return self._store


class TidyStoreResource(ConfigFileResource):
    """The DuckDB tidy store, one write connection per step."""

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write connection for one step.

        A file another process holds past `[app] lock_wait_s` fails the step with that one line,
        not retried: the wait was the patience, and the next run tries again.
        """
        try:
            conn = TidyStore(self.config.app.duckdb, wait_s=self.config.app.lock_wait_s).open()
        except (TidyStoreLocked, TidyStoreError) as err:
            raise dg.Failure(description=str(err), allow_retries=False) from None
        try:
            yield conn
        finally:
            conn.close()


class VictoriaMetricsResource(ConfigFileResource):
    """The VictoriaMetrics server the export writes to."""

    def client(self) -> VictoriaMetrics:
        settings = self.config.victoriametrics
        if not settings.enabled:
            raise dg.Failure(
                "the VictoriaMetrics export is disabled: set [victoriametrics] enabled = true", allow_retries=False
            )
        return VictoriaMetrics(settings)


class SourceClientResource(ConfigFileResource):
    """One source's API client for a run (keyed by the source's name); its tokens live in the raw store."""

    source: str

    @property
    def settings(self) -> ProviderConfig:
        return self.config.provider(self.source)

    def client(self, store: RawStore) -> Any:
        """The client, its tokens kept in `store` (the run's `raw_store`)."""
        from health_pipeline.sources import source_named

        if not self.settings.enabled:
            raise dg.Failure(f"{self.source} is disabled: set [{self.source}] enabled = true in the config file",
                             allow_retries=False)
        return source_named(self.source).build_client(self.settings, self.config.app, store)


def resources_for(config_path: str | None) -> dict[str, dg.ConfigurableResource]:
    """Every resource, bound to the same config file."""
    from health_pipeline.sources import SOURCES

    return {
        "raw_store": RawStoreResource(config_path=config_path),
        "tidy_store": TidyStoreResource(config_path=config_path),
        "victoriametrics": VictoriaMetricsResource(config_path=config_path),
        **{s.name: SourceClientResource(config_path=config_path, source=s.name) for s in SOURCES},
    }
