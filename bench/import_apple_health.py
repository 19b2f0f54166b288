"""Benchmark: importing and modelling a ten-year Apple Health export (about 9 million records).

An export of the sandbox person is written once (cached under the temp folder: writing it takes longer
than importing it) with the Watch's heart rate every 40 s, its per-minute steps, distance and active
energy, hourly basal energy, the phone's copies of the same walks, the apps' copies, sleep stages,
vitals, weigh-ins and workouts. Then:
- parsers: the XML's first 300 MB read by expat (what the importer uses), the standard library's
  ElementTree.iterparse and, when installed, lxml's iterparse, each building every record's attribute
  dict (the least an importer needs);
- import: `health-pipeline import apple-health` as a person runs it (a fresh raw store, DuckDB file and
  Dagster home): read, land, then model and export the days it changed; wall time and the process's
  peak RSS (the command and its in-process Dagster runs);
- again: the same command a second time (nothing may change; nothing is modelled).
Target (issue 33): under 2 minutes and 1 GiB on 2 cores.
Run: .venv/bin/python bench/import_apple_health.py [--years 10] [--hr-every 40]
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from xml.parsers import expat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from health_pipeline.sandbox.world import SandboxClock, SandboxWorld  # noqa: E402
from health_pipeline.sources.apple_health.sandbox.generate import ExportSpec, write_export  # noqa: E402

NOW = datetime(2026, 11, 10, 12, tzinfo=timezone.utc)
SAMPLE_BYTES = 300 * 2**20
CLI = Path(sys.executable).parent / "health-pipeline"


def sample(xml: Path) -> bytes:
    with open(xml, "rb") as stream:
        data = stream.read(SAMPLE_BYTES)
    data = data[data.find(b"<HealthData"):]
    return data[:data.rfind(b"\n <Record")] + b"\n</HealthData>\n"


def parse_expat(data: bytes) -> int:
    found = [0]

    def start(name: str, attrs: dict) -> None:
        if name == "Record":
            found[0] += 1

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.Parse(data, True)
    return found[0]


def parse_elementtree(data: bytes) -> int:
    import io
    from xml.etree import ElementTree
    found = 0
    events = ElementTree.iterparse(io.BytesIO(data), events=("start", "end"))
    _, root = next(events)
    for event, element in events:
        if event == "end" and element.tag == "Record":
            dict(element.attrib)
            found += 1
            root.clear()
    return found


def parse_lxml(data: bytes) -> int | None:
    try:
        from lxml import etree
    except ImportError:
        return None
    import io
    found = 0
    for _, element in etree.iterparse(io.BytesIO(data), events=("end",), tag="Record", resolve_entities=False,
                                      no_network=True, huge_tree=True):
        dict(element.attrib)
        found += 1
        element.clear()
        while element.getprevious() is not None:
            del element.getparent()[0]
    return found


def run(config: Path, xml: Path, home: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([str(CLI), "--config", str(config), "import", "apple-health", str(xml)],
                          capture_output=True, text=True, env={**os.environ, "DAGSTER_HOME": str(home)})
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"import failed: {done.stderr[-2000:]}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--hr-every", type=int, default=40)
    args = parser.parse_args()
    days = args.years * 365
    folder = Path(tempfile.gettempdir()) / f"health-pipeline-bench-apple-{days}d-{args.hr_every}s"
    xml = folder / "apple_health_export" / "export.xml"
    if not xml.exists():
        started = time.perf_counter()
        world = SandboxWorld(seed=11, days=days, clock=SandboxClock(NOW))
        write_export(world, ExportSpec(hr_every_s=args.hr_every, side_files=False), folder.with_suffix(".part"))
        folder.with_suffix(".part").rename(folder)
        print(f"wrote {xml} ({xml.stat().st_size / 2**30:.2f} GiB) in {time.perf_counter() - started:.0f} s")
    records = sum(chunk.count(b"\n <Record") for chunk in iter(lambda f=open(xml, "rb"): f.read(1 << 24), b""))
    print(f"export: {xml.stat().st_size / 2**30:.2f} GiB, {records:,} top-level records, {days} days")

    data = sample(xml)
    for name, parse in (("expat", parse_expat), ("ElementTree.iterparse", parse_elementtree), ("lxml.iterparse", parse_lxml)):
        started = time.perf_counter()
        found = parse(data)
        elapsed = time.perf_counter() - started
        if found is None:
            print(f"parser {name:<22} not installed")
        else:
            print(f"parser {name:<22} {len(data) / 2**20 / elapsed:6.0f} MiB/s  {found / elapsed:9,.0f} records/s")
    del data

    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        config = root / "health-pipeline.toml"
        config.write_text('[app]\ntimezone = "Europe/Berlin"\nraw_db = "raw.sqlite"\nduckdb = "health.duckdb"\n')
        (root / "dagster_home").mkdir()
        elapsed, output = run(config, xml, root / "dagster_home")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
        print(f"import + model: {elapsed:.0f} s, {records / elapsed:,.0f} records/s, peak RSS {peak:.2f} GiB "
              f"(target: 120 s, 1 GiB)")
        print(f"  raw store {(root / 'raw.sqlite').stat().st_size / 2**30:.2f} GiB, "
              f"DuckDB {(root / 'health.duckdb').stat().st_size / 2**20:.0f} MiB")
        again, output = run(config, xml, root / "dagster_home")
        assert "nothing changed" in output, output[-2000:]
        print(f"the same export again: {again:.0f} s, nothing changed, nothing modelled")


if __name__ == "__main__":
    main()
