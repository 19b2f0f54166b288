"""Benchmark: importing and modelling a 10-year Fitbit export (per-minute heart rate, about 5 million samples).

A `Takeout/Fitbit` archive of the sandbox person is written once (cached under the temp folder, since
writing it takes longer than importing it), then measured in a fresh raw store and DuckDB file:
- import: `import_takeout` (open the zip, detect the clock from ten years of sleep and heart rate,
  land every file in its own transaction);
- model: every tidy table the export feeds, rebuilt over the ten years (`rebuild_table`, the
  archive and the API as one provider; no API data here);
- again: the same import a second time (nothing may change).
Peak RSS of the process is printed. Target: import + model under 60 s on 2 cores, under 1 GiB.
Run: .venv/bin/python bench/import_takeout.py [--years 10]
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

from health_pipeline.sandbox.world import SandboxClock, SandboxWorld  # noqa: E402
from health_pipeline.sources.fitbit_takeout import SOURCE  # noqa: E402
from health_pipeline.sources.fitbit_takeout.sandbox.generate import ArchiveSpec, write_takeout  # noqa: E402
from health_pipeline.sources.fitbit_takeout.importer import import_takeout  # noqa: E402
from health_pipeline.storage.raw_store import RawStore  # noqa: E402
from health_pipeline.registry import TABLES  # noqa: E402
from health_pipeline.tidy.models import rebuild_table  # noqa: E402

NOW = datetime(2026, 11, 10, 12, tzinfo=timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--years", type=int, default=10)
    args = parser.parse_args()
    days = args.years * 365
    world = SandboxWorld(seed=11, days=days, clock=SandboxClock(NOW))
    archive = Path(tempfile.gettempdir()) / f"health-pipeline-bench-takeout-{days}d.zip"
    if not archive.exists():
        started = time.perf_counter()
        write_takeout(world, archive.with_suffix(".part"), ArchiveSpec("C"))
        archive.with_suffix(".part").rename(archive)
        print(f"wrote {archive} ({archive.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - started:.0f} s")
    with tempfile.TemporaryDirectory() as work:
        store = RawStore(Path(work) / "raw.sqlite")
        store.init()
        started = time.perf_counter()
        summary = import_takeout(archive, store, ZoneInfo(world.timezone))
        imported = time.perf_counter() - started
        started = time.perf_counter()
        with duckdb.connect(str(Path(work) / "health.duckdb")) as conn:
            for name in {t.table for t in SOURCE.tidy}:
                rebuild_table(conn, store, TABLES[name], world.first_day(), world.today() - timedelta(days=1),
                              providers=["fitbit"], timezone=world.timezone)
            modelled = time.perf_counter() - started
            samples = conn.execute("SELECT count(*) FROM heart_rate").fetchone()[0]
        started = time.perf_counter()
        again = import_takeout(archive, store, ZoneInfo(world.timezone))
        reimported = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"archive: {archive.stat().st_size / 2**20:.0f} MiB zip, {len(summary.kinds)} families, "
          f"{summary.counts.new} records, {samples} heart-rate minutes, clock {summary.clock.intraday} "
          f"({summary.clock.method})")
    print(f"import {imported:.1f} s, model {modelled:.1f} s, import + model {imported + modelled:.1f} s "
          f"(target < 60 s); re-import {reimported:.1f} s ({again.counts.new} new, {again.counts.changed} changed); "
          f"peak RSS {peak:.0f} MiB (target < 1024)")


if __name__ == "__main__":
    main()
