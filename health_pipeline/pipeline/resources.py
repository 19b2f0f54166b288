"""The one resource every asset uses: the user's configuration and the clients built from it.

Only the config file's path is resource config, so no secret ever enters Dagster's run config
or the UI; secrets are read from the file or the environment inside the run.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from health_pipeline.config import Config, load_config
from health_pipeline.storage.duckdb_store import TidyStore, TidyStoreError, TidyStoreLocked
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.storage.victoriametrics import VictoriaMetrics


class HealthPipelineResource(dg.ConfigurableResource):
    """Loads `health-pipeline.toml` and builds stores and provider clients from it."""

    config_path: Optional[str] = None
    _config: Optional[Config] = PrivateAttr(default=None)
    _raw_store: Optional[RawStore] = PrivateAttr(default=None)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def raw_store(self) -> RawStore:
        """The raw store, created (or its schema checked) once per resource, not per call."""
        if self._raw_store is None:
            store = RawStore(self.config.app.raw_db)
            store.init()
            self._raw_store = store
        return self._raw_store

    def _enabled(self, provider: str) -> Any:
        settings = self.config.provider(provider)
        if not settings.enabled:
            raise dg.Failure(f"{provider} is disabled: set [{provider}] enabled = true in the config file",
                             allow_retries=False)
        return settings

    def tidy_store(self) -> TidyStore:
        return TidyStore(self.config.app.duckdb, wait_s=self.config.app.lock_wait_s)

    @contextmanager
    def tidy_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write connection to the tidy store for one step.

        A file another process holds past `[app] lock_wait_s` fails the step with that one line,
        not retried: the wait was the patience, and the next run tries again.
        """
        try:
            conn = self.tidy_store().open()
        except (TidyStoreLocked, TidyStoreError) as err:
            raise dg.Failure(description=str(err), allow_retries=False) from None
        try:
            yield conn
        finally:
            conn.close()

    def client(self, source: str) -> Any:
        """The enabled source's API client for this run (its tokens kept in the raw store)."""
        from health_pipeline.sources import source_named

        settings = self._enabled(source)
        return source_named(source).build_client(settings, self.config.app, self.raw_store())

    def victoriametrics(self) -> VictoriaMetrics:
        settings = self.config.victoriametrics
        if not settings.enabled:
            raise dg.Failure(
                "the VictoriaMetrics export is disabled: set [victoriametrics] enabled = true", allow_retries=False
            )
        return VictoriaMetrics(settings)
