"""Import assets: one per importer, unpartitioned, reading the export named in the config file (or, for
one run, in the launchpad's run config). Downstream, the tidy tables the imported records feed."""

from collections.abc import Callable
from pathlib import Path

import dagster as dg

from health_pipeline.config import Config
from health_pipeline.pipeline.resources import RawStoreResource

IMPORT_GROUP = "imports"

# Where an import in this process reports how far it has read (bytes done, bytes in all, file): the CLI
# draws a progress bar with it; without one, the asset logs every tenth.
progress_hook: Callable[[int, int, str], None] | None = None


class ImportRunConfig(dg.Config):
    """Launchpad config of an import run."""

    path: str = ""  # "": the `path` of the importer's section in the config file


def export_path(config: Config, section: str, given: str) -> Path | None:
    """The export to read: the run's `path`, else `[section] path` (None: neither is set); relative paths
    from the config file's folder."""
    text = given or config.importer(section).path
    if not text:
        return None
    path = Path(text).expanduser()
    return path if path.is_absolute() else config.base_dir / path


def build_import_asset(name: str, title: str, description: str,
                       run: Callable[[dg.AssetExecutionContext, Config, Path, RawStoreResource], dict[str, object]],
                       ) -> dg.AssetsDefinition:
    """The import asset of an importer: `run(context, config, path, raw_store)` imports and returns the metadata."""

    @dg.asset(name=f"import_{name}", group_name=IMPORT_GROUP, kinds={"sqlite"}, pool="raw_store",
              description=f"{title}: {description}")
    def _import(context: dg.AssetExecutionContext, config: ImportRunConfig,
                raw_store: RawStoreResource) -> dg.MaterializeResult:
        settings = raw_store.config
        path = export_path(settings, name, config.path)
        if path is None:  # a "materialize all" run: nothing named, nothing to import, nothing downstream held up
            context.log.warning(f"no export to import: set [{name}] path in the config file, or `path` in the run config")
            return dg.MaterializeResult(metadata={"imported": "nothing (no path set)"})
        metadata = run(context, settings, path, raw_store)
        return dg.MaterializeResult(metadata={"path": str(path), **metadata})

    return _import


def progress_hook_or_log(context: dg.AssetExecutionContext, path: Path) -> Callable[[int, int, str], None]:
    """How an import reports how far it has read: to the CLI's progress bar, else a log line each tenth."""
    said = [0]

    def progress(done: int, total: int, name: str) -> None:
        if progress_hook is not None:
            progress_hook(done, total, name)
            return
        percent = done * 100 // total
        if percent >= said[0] + 10:
            said[0] = percent - percent % 10
            context.log.info(f"{path.name}: {percent} % read ({name.rsplit('/', 1)[-1]})")

    return progress
