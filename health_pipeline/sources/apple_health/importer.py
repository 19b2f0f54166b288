"""Importing an Apple Health export into the raw store, provider `apple_health`, one resource per
HealthKit type (`heart_rate`, `step_count`, `sleep_analysis`, `workout`, `activity_summary`,
`correlation_blood_pressure`, …), one record per local day:

  `<day>`  {"type": "HKQuantityTypeIdentifierHeartRate", "day": "2026-03-29",
            "sources": [{"name": "…’s Apple Watch", "records": 288, "rank": 0}, {"name": "Oura", …, "rank": null}],
            "records": [{…the record's attributes verbatim, "metadata": [[key, value], …]}, …]}

`sources` ranks each source as `[apple_health] source_priority` says (null: an app whose source the
project syncs itself, `exclude_apps`); the tidy SQL counts each minute once from the best-ranked source.

The XML is read whole into a staging file first and landed only when it has been read to its end: a
truncated export lands nothing. Each type then lands in one transaction; a day whose records are the
same as stored is not rewritten, so importing the same export again changes nothing and a later,
cumulative export rewrites only the type-days that changed (and tombstones the type-days it no longer
has between its first and last day: deleted in Health).
"""

import hashlib
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import orjson

from health_pipeline.sources.apple_health.archive import Located, locate
from health_pipeline.sources.apple_health.reader import ExportReader, Part, ReadStats
from health_pipeline.sources.apple_health.settings import AppleHealthConfig
from health_pipeline.storage.raw_store import LandingCounts, RawRecord, RawStore

PROVIDER = "apple_health"
STATE = "export"  # sync_state: the last export imported (its sha256, with the settings that ranked it)
BATCH = 2000  # staged parts written at once

Progress = Callable[[int, int, str], None]


@dataclass
class ImportSummary:
    """What an import found and did."""

    path: Path
    located: Located
    stats: ReadStats
    counts: LandingCounts = field(default_factory=LandingCounts)
    days: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # resource -> (first, last, days)
    excluded: Counter[str] = field(default_factory=Counter)  # excluded app -> records
    same_as_last: bool = False  # the very file imported last time, with the same settings: not read again

    @property
    def first_day(self) -> str | None:
        return min((d[0] for d in self.days.values()), default=None)

    @property
    def last_day(self) -> str | None:
        return max((d[1] for d in self.days.values()), default=None)

    def lines(self) -> list[str]:
        """The summary a person reads at the end: per type, then what was left out and why."""
        s = self.stats
        if self.same_as_last:
            return [f"{self.path}: the same export as last imported (same bytes, same settings): nothing read, "
                    "nothing changed"]
        out = [f"{self.path}: {self.located.name}, HealthKit export version {s.version or 'unknown (no DTD)'}, "
               f"locale {s.locale or '-'}, exported {s.export_date or '-'}"]
        for resource in sorted(self.days):
            first, last, days = self.days[resource]
            out.append(f"  {resource:<40} {s.records[resource]:>9} records {days:>5} days  {first}..{last}")
        c = self.counts
        out.append(f"  type-days: {c.new} new, {c.changed} changed, {c.unchanged} unchanged, {c.deleted} gone from Health")
        if self.excluded:
            out.append("  kept out of the apple_health rows (their source is synced itself; `exclude_apps`): "
                       + ", ".join(f"{app} {n} records" for app, n in sorted(self.excluded.items())))
        side = {**self.located.side_files, **s.not_imported}
        if side:
            out.append("  not imported: " + ", ".join(f"{name} {n}" for name, n in sorted(side.items())))
        return out

    def as_metadata(self) -> dict[str, object]:
        return {"xml": self.located.name, "export_version": self.stats.version or "none",
                "locale": self.stats.locale or "none", **self.counts.as_metadata(),
                **{f"{r}_records": n for r, n in sorted(self.stats.records.items())},
                "excluded_apps": ", ".join(f"{a} ({n})" for a, n in sorted(self.excluded.items())) or "none",
                "not_imported": ", ".join(f"{k} ({n})" for k, n in sorted({**self.located.side_files,
                                                                           **self.stats.not_imported}.items())) or "none",
                "first_day": str(self.first_day), "last_day": str(self.last_day), "failures": []}


class Staging:
    """The parts read so far, in a temporary SQLite file beside the raw store (never all in memory; the
    system's temporary folder when the raw store is on a server)."""

    def __init__(self, folder: Path | None) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix=".apple-health-", dir=folder)
        self.conn = sqlite3.connect(Path(self._dir.name) / "staging.sqlite", isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = OFF")
        self.conn.execute("PRAGMA synchronous = OFF")
        self.conn.execute("CREATE TABLE parts (seq INTEGER PRIMARY KEY, resource TEXT, day TEXT, part BLOB, sources BLOB)")
        self.pending: list[tuple[str, str, bytes, bytes]] = []
        self.conn.execute("BEGIN")

    def add(self, part: Part) -> None:
        resource, day, records, sources = part
        self.pending.append((resource, day, records, orjson.dumps(sources)))
        if len(self.pending) >= BATCH:
            self._write()

    def _write(self) -> None:
        self.conn.executemany("INSERT INTO parts (resource, day, part, sources) VALUES (?, ?, ?, ?)", self.pending)
        self.pending = []

    def done(self) -> None:
        self._write()
        self.conn.execute("COMMIT")
        self.conn.execute("CREATE INDEX parts_by_day ON parts (resource, day, seq)")

    def resources(self) -> list[str]:
        return [r for (r,) in self.conn.execute("SELECT DISTINCT resource FROM parts ORDER BY 1")]

    def days(self, resource: str) -> Iterator[tuple[str, list[bytes], Counter[str]]]:
        """Each day of a resource with its parts in the order read and its records per source."""
        day, parts, sources = None, [], Counter()
        for found, part, counted in self.conn.execute(
                "SELECT day, part, sources FROM parts WHERE resource = ? ORDER BY day, seq", (resource,)):
            if found != day and day is not None:
                yield day, parts, sources
                parts, sources = [], Counter()
            day = found
            parts.append(part)
            sources.update(orjson.loads(counted))
        if day is not None:
            yield day, parts, sources

    def close(self) -> None:
        self.conn.close()
        self._dir.cleanup()


def fingerprint(located: Located, settings: AppleHealthConfig) -> str:
    """The sha256 of the file handed over (the zip, or the XML) and of the settings that rank its sources:
    the same export again is recognised without parsing it (seconds, not minutes, for ten years)."""
    digest = hashlib.sha256(orjson.dumps([settings.source_priority, settings.exclude_apps]))
    with open(located.open.path, "rb") as stream:  # the zip, or the XML itself
        while chunk := stream.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def envelope(kind: str, day: str, parts: list[bytes], sources: Counter[str], settings: AppleHealthConfig) -> str:
    """The stored record of one type-day: its type, its sources ranked, its records verbatim."""
    ranked = [{"name": name, "records": n, "rank": settings.rank(name)} for name, n in sorted(sources.items())]
    head = orjson.dumps({"type": kind, "day": day, "sources": ranked})[:-1]
    body = b",".join(p[1:-1] for p in parts if len(p) > 2)
    return (head + b',"records":[' + body + b"]}").decode()


def import_export(path: Path, store: RawStore, settings: AppleHealthConfig, progress: Progress) -> ImportSummary:
    """Read the export at `path` whole, then land it type by type."""
    located = locate(path)
    store.init()
    digest = fingerprint(located, settings)
    state = store.sync_state(PROVIDER, STATE)
    if state is not None and state[1].get("sha256") == digest:
        return ImportSummary(path, located, ReadStats(), same_as_last=True)
    staging = Staging(store.scratch_dir)
    try:
        reader = ExportReader(staging.add)
        with located.open() as stream:
            stats = reader.read(stream, located.name, lambda done: progress(done, located.size, located.name))
        staging.done()
        summary = ImportSummary(path, located, stats)
        for resource in staging.resources():
            kind = stats.types.get(resource, resource)
            days: list[str] = []

            def records(resource: str = resource, kind: str = kind, days: list[str] = days) -> Iterator[RawRecord]:
                for day, parts, sources in staging.days(resource):
                    days.append(day)
                    for name, n in sources.items():
                        if settings.rank(name) is None:
                            summary.excluded[name] += n
                    yield RawRecord(day, day, None, envelope(kind, day, parts, sources, settings))

            span = staging.conn.execute("SELECT min(day), max(day) FROM parts WHERE resource = ?", (resource,)).fetchone()
            summary.counts += store.land(PROVIDER, resource, records(), window=_window(span))
            summary.days[resource] = (span[0], span[1], len(days))
        store.land(PROVIDER, STATE, [], detail={"sha256": digest, "xml": located.name, "version": stats.version,
                                                "export_date": stats.export_date})
        return summary
    finally:
        staging.close()


def _window(span: tuple[str, str]) -> tuple[date, date]:
    return date.fromisoformat(span[0]), date.fromisoformat(span[1])
