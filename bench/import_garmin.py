"""Benchmark: importing and modelling a 10-year Garmin Connect export (monitoring FIT files at the watch's
density: one heart-rate sample a minute, about 5 million samples; an activity FIT file per workout).

The export of the sandbox person is written once (cached under the temp folder: writing it takes longer
than importing it), then measured in a fresh raw store and DuckDB file:
- import: `import_garmin_export` (open the zip and its nested FIT archives, read every JSON family, decode
  every FIT file with fitdecode, land each file in its own transaction);
- model: every tidy table the export feeds, rebuilt over the ten years (`rebuild_table`, provider garmin);
- again: the same import a second time (nothing may change).
Prints wall times, records and heart-rate samples per second, and the process's peak RSS.
Run: .venv/bin/python bench/import_garmin.py [--years 10]
"""

import argparse
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402

from health_pipeline.registry import TABLES  # noqa: E402
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld  # noqa: E402
from health_pipeline.sources.garmin_export import SOURCE  # noqa: E402
from health_pipeline.sources.garmin_export.importer import import_garmin_export  # noqa: E402
from health_pipeline.sources.garmin_export.sandbox.generate import ExportSpec, write_export  # noqa: E402
from health_pipeline.storage.raw_store import RawStore  # noqa: E402
from health_pipeline.tidy.models import rebuild_table  # noqa: E402

NOW = datetime(2026, 11, 10, 12, tzinfo=timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--years", type=int, default=10)
    args = parser.parse_args()
    days = args.years * 365
    world = SandboxWorld(seed=11, days=days, clock=SandboxClock(NOW))
    export = Path(tempfile.gettempdir()) / f"health-pipeline-bench-garmin-{days}d.zip"
    if not export.exists():
        started = time.perf_counter()
        write_export(world, export.with_suffix(".part"), ExportSpec())
        export.with_suffix(".part").rename(export)
        print(f"wrote {export} ({export.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - started:.0f} s")
    with tempfile.TemporaryDirectory() as work:
        store = RawStore(Path(work) / "raw.sqlite")
        store.init()
        started = time.perf_counter()
        summary = import_garmin_export(export, store, ZoneInfo(world.timezone))
        imported = time.perf_counter() - started
        started = time.perf_counter()
        with duckdb.connect(str(Path(work) / "health.duckdb")) as conn:
            for name in {t.table for t in SOURCE.tidy}:
                rebuild_table(conn, store, TABLES[name], world.first_day(), world.today() - timedelta(days=1),
                              providers=["garmin"], timezone=world.timezone)
            modelled = time.perf_counter() - started
            samples = conn.execute("SELECT count(*) FROM heart_rate").fetchone()[0]
        started = time.perf_counter()
        again = import_garmin_export(export, store, ZoneInfo(world.timezone))
        reimported = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    files = sum(f.files for f in summary.families.values())
    print(f"export: {export.stat().st_size / 2**20:.0f} MiB zip, {files} files read, {summary.counts.new} records, "
          f"{samples} heart-rate samples modelled, {len(summary.failed)} failed")
    print(f"import {imported:.1f} s ({summary.counts.new / imported:,.0f} records/s, {samples / imported:,.0f} samples/s), "
          f"model {modelled:.1f} s, import + model {imported + modelled:.1f} s; re-import {reimported:.1f} s "
          f"({again.counts.new} new, {again.counts.changed} changed); peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
