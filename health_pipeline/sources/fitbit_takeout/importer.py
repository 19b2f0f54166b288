"""Importing a Fitbit export into the raw store, provider `fitbit_takeout`, one resource per file family.

Each file is read, checked and landed in its own transaction: a truncated or corrupt file lands
nothing and is named in the summary; the others land. Records are the file's rows (or items) kept
verbatim, grouped by local day, inside an envelope that records what was detected about them:

  time series   `<file>#<day>`  {"file", "clock": "utc"|"local", "rows": [...]}   (JSON, and Google's CSVs)
  daily rows    `<file>#<day>`  {"file", "row": {...}}           (CSV rows by header name)
  items         `<logId>`       {"file", "utc_offset_s"?, "clock"?, "unit"?, "item": {...}}

Days. A record without an offset of its own is dated on the configured zone's calendar (`app.timezone`),
as every source's are: the intraday series and exercise (their instants on the clock detected, UTC in
every export seen), Google's CSV readings (UTC), wall-clock rows (sleep's `dateOfSleep`, a weigh-in's
`date`, the daily series' dates) on the date they say. The UTC offsets `clock.py` finds for the nights
(trips) only place sleep sessions and weigh-ins in time; they never move a record to another day.

Sleep sessions repeated in two 30-day files are landed once (the later file's copy). Ids come from
the file names and the records' own ids, so importing the same export again changes nothing.

Importing again. Each file's sha256 is kept (sync_state `archive` detail, `files`) with what its records
were derived with besides its bytes (`context`: the configured zone, and per family the clock found, the
nights' offsets, the other files a family's records depend on). A file with the same bytes and context is
not read again; when every sleep and heart-rate file is unchanged, the clock found last time is reused
instead of detected again: the ten-year export of bench/import_takeout.py again took 3.1 s (49.7 s when
every file was read again, on the same busy machine).
"""

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson

from health_pipeline.sources.fitbit_takeout.archive import Entry, Export, FileError, open_export
from health_pipeline.sources.fitbit_takeout.clock import (ClockDecision, by_google_csv, by_sleep, naive_seconds,
                                                          offset_at, zone_days)
from health_pipeline.sources.fitbit_takeout.formats import GOOGLE_CSV, GOOGLE_DAILY_CSV, JSON_DAY, JSON_TIME
from health_pipeline.storage.raw_store import LandingCounts, RawRecord, RawStore

PROVIDER = "fitbit_takeout"
DAY_S = 86_400
LB_KG = 0.45359237
LB_RATIO = 4.6  # weight / BMI = height squared: 2.3-4.4 in kg, 5.0-9.7 in lb (the ranges do not overlap)

Progress = Callable[[int, int, str], None]  # (bytes done, bytes in all, file)


@dataclass
class KindSummary:
    """What one family of files gave."""

    files: int = 0
    records: int = 0
    days: set[str] = field(default_factory=set)


@dataclass
class ImportSummary:
    """What an import did: the layout, the clock and units found, per family the files, records and days."""

    path: Path
    layout: str
    clock: ClockDecision
    weight_unit: str | None = None
    kinds: dict[str, KindSummary] = field(default_factory=dict)
    counts: LandingCounts = field(default_factory=LandingCounts)
    failed: list[str] = field(default_factory=list)  # one line per file that landed nothing
    unchanged_files: int = 0  # files with the bytes (and context) of their last import: not read again
    skipped: int = 0  # files of the export this importer does not read (badges, food logs, …)

    @property
    def first_day(self) -> date | None:
        days = [d for k in self.kinds.values() for d in k.days]
        return date.fromisoformat(min(days)) if days else None

    @property
    def last_day(self) -> date | None:
        days = [d for k in self.kinds.values() for d in k.days]
        return date.fromisoformat(max(days)) if days else None

    def lines(self) -> list[str]:
        """The summary a person reads at the end."""
        out = [f"{self.path}: {self.layout}; intraday clock {self.clock.intraday} ({self.clock.method})"
               + (f", weight in {self.weight_unit}" if self.weight_unit else "")]
        for family, k in sorted(self.kinds.items()):
            span = f"{min(k.days)}..{max(k.days)}" if k.days else "-"
            out.append(f"  {family:<26} {k.files:>5} files {k.records:>7} records {len(k.days):>5} days  {span}")
        c = self.counts
        out.append(f"  records: {c.new} new, {c.changed} changed, {c.unchanged} unchanged; "
                   f"{self.unchanged_files} files as last imported (same sha256, not read again); "
                   f"{self.skipped} files not imported (not read by this importer)")
        out += [f"  FAILED {line}" for line in self.failed]
        return out

    def as_metadata(self) -> dict[str, object]:
        return {"layout": self.layout, **self.clock.as_metadata(), "weight_unit": self.weight_unit or "none",
                **self.counts.as_metadata(), "files_failed": len(self.failed), "failures": self.failed[:10],
                "files_not_imported": self.skipped, "files_unchanged": self.unchanged_files,
                **{f"{family}_records": k.records for family, k in sorted(self.kinds.items())},
                "first_day": str(self.first_day), "last_day": str(self.last_day)}


def _json(entry: Entry) -> list[Any]:
    try:
        data = orjson.loads(entry.read())
    except (UnicodeDecodeError, orjson.JSONDecodeError) as err:
        raise FileError(f"{entry.name}: not valid JSON, truncated or corrupt ({err})") from None
    if not isinstance(data, list):
        raise FileError(f"{entry.name}: expected a JSON array, got {type(data).__name__}")
    return data


def _csv_rows(entry: Entry) -> list[dict[str, str]]:
    try:
        text = entry.read().decode("utf-8-sig")
        reader = csv.DictReader(io.StringIO(text))
        rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as err:
        raise FileError(f"{entry.name}: not a readable CSV ({err})") from None
    if rows and "timestamp" not in (reader.fieldnames or []) and "sleep_start" not in (reader.fieldnames or []):
        return []  # a "no data" placeholder without a timestamp column
    if any(None in row for row in rows):
        raise FileError(f"{entry.name}: a row has more cells than the header (corrupt)")
    return rows


_GOOGLE_COLUMNS = {resource: columns for resource, columns in (*GOOGLE_CSV.values(), *GOOGLE_DAILY_CSV.values())}
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$")
_WALL = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


def _google_rows(entry: Entry) -> tuple[list[dict[str, str]], np.ndarray]:
    """A Google CSV's rows and their instants (UTC seconds); its value columns checked by header name."""
    rows = _checked_rows(entry)
    if not rows:
        return [], np.zeros(0, "int64")
    # `2026-08-01T01:15:09.096319Z`: the instant to the second (Fitbit's own series are whole seconds)
    utc = naive_seconds([r["timestamp"][:19] for r in rows], "%Y-%m-%dT%H:%M:%S")
    if (utc < 0).any():
        bad = rows[int(np.flatnonzero(utc < 0)[0])]["timestamp"]
        raise FileError(f"{entry.name}: a timestamp is not an ISO instant ({bad!r})")
    return rows, utc


def _checked_rows(entry: Entry) -> list[dict[str, str]]:
    """A Google CSV's rows, its value columns checked by header name."""
    rows = _csv_rows(entry)
    missing = [c for c in _GOOGLE_COLUMNS[entry.kind.family] if rows and c not in rows[0]]
    if missing:
        raise FileError(f"{entry.name}: no {missing[0]!r} column (found {', '.join(rows[0])})")
    return rows


def _google_daily_days(entry: Entry, rows: list[dict[str, str]], zone: ZoneInfo) -> np.ndarray:
    """The day of each row of a Google daily CSV (days since 1970): an instant with `Z` or an offset on the
    configured zone's calendar, a date or a wall-clock time (no zone) on its own date."""
    days = np.zeros(len(rows), "int64")
    for i, row in enumerate(rows):
        stamp = (row.get("timestamp") or "").strip()
        if _INSTANT.match(stamp):
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            days[i] = zone_days(np.array([int(moment.timestamp())], "int64"), zone)[0]
        elif _WALL.match(stamp):
            days[i] = date.fromisoformat(stamp[:10]).toordinal() - 719163
        else:
            raise FileError(f"{entry.name}: a timestamp is neither a date nor an ISO time ({stamp!r})")
    return days


def _times(rows: list[Any], entry: Entry) -> np.ndarray:
    try:
        found = naive_seconds([r["dateTime"] for r in rows], JSON_TIME)
    except (KeyError, TypeError):
        raise FileError(f"{entry.name}: a row has no dateTime") from None
    if len(found) and (found < 0).any():  # NaT: a timestamp that is not MM/DD/YY HH:MM:SS
        raise FileError(f"{entry.name}: a dateTime is not MM/DD/YY HH:MM:SS")
    return found


_TIME = re.compile(rb'"dateTime"\s*:\s*"([^"]*)"')
_BPM = re.compile(rb'"bpm"\s*:\s*([0-9.]+)')


def _hr_samples(entry: Entry) -> tuple[np.ndarray, np.ndarray]:
    """A heart-rate file's timestamps (as written) and bpm, for the clock detection: read with two
    regular expressions when the file has the usual shape (five times faster than parsing it), else parsed."""
    data = entry.read()
    stamps, beats = _TIME.findall(data), _BPM.findall(data)
    if len(stamps) == len(beats) and data.rstrip().endswith(b"]"):
        found = naive_seconds([s.decode("ascii", "replace") for s in stamps], JSON_TIME)
        if not len(found) or (found >= 0).all():
            return found, np.array(beats, dtype="float64")
    rows = _json(entry)
    return _times(rows, entry), np.array([(r.get("value") or {}).get("bpm", 0) for r in rows], dtype="float64")


class _Importer:
    def __init__(self, export: Export, store: RawStore, zone: ZoneInfo, progress: Progress | None) -> None:
        self.export, self.store, self.zone, self.progress = export, store, zone, progress
        self.summary = ImportSummary(export.path, export.layout_name, ClockDecision(), skipped=len(export.skipped))
        self.failed: set[str] = set()
        self.sleeps: dict[str, tuple[str, dict[str, Any]]] = {}  # logId -> (file, item), the later file's copy
        self.landed: dict[str, dict[str, set[str]]] = {}  # resource -> file -> its day records in the store
        self.google_weights: list[tuple[int, float]] | None = None  # Google's weigh-ins: (UTC second, kg)
        state = store.sync_state(PROVIDER, "archive")
        before = state[1] if state else {}
        self.before_files: dict[str, list[Any]] = before.get("files") or {}  # name -> [sha256, context, records, days]
        self.before_clock: dict[str, Any] = before.get("clock_state") or {}
        self.before_unit: str | None = before.get("weight_unit")
        self.digests: dict[str, str] = {}  # name -> sha256 of the file's bytes, as read by this import
        self.files: dict[str, list[Any]] = {}  # this import's state of the files it landed or found unchanged
        self.contexts: dict[str, str] = {}  # family -> the context its records were derived with

    # -- pass 1: sleep and heart rate, to find the clock ------------------------------------------

    def _clock_inputs(self) -> list[Entry]:
        return self._of("sleep") + self._of("heart_rate") + self._of("google_heart_rate")[:3]

    def detect_or_reuse(self) -> None:
        """The clock found by the last import when the files it was found from are byte for byte the same
        (and the zone too); else detected."""
        kept = self.before_clock
        if kept and kept.get("zone") == self.zone.key and kept.get("inputs") == self._fingerprint(self._clock_inputs()):
            self.summary.clock = ClockDecision(
                kept["intraday"], kept["method"], kept.get("evidence") or {},
                {k: int(v) for k, v in kept["night_offsets"].items()},
                {date.fromisoformat(k): int(v) for k, v in kept["day_offsets"].items()})
            return
        self.detect()

    def detect(self) -> None:
        for entry in self._of("sleep"):
            for item in self._guard(entry, lambda: _json(entry)) or []:
                if isinstance(item, dict) and "logId" in item:
                    self.sleeps[str(item["logId"])] = (entry.base, item)
        nights: dict[str, tuple[int, int]] = {}
        for log_id, (_, item) in self.sleeps.items():
            if item.get("mainSleep") is not False:
                start, end = naive_seconds([str(item.get("startTime")), str(item.get("endTime"))], "ISO8601")
                if start >= 0 and end > start:
                    nights[log_id] = (int(start), int(end))
        times, bpm = [], []
        for entry in self._of("heart_rate"):
            found = self._guard(entry, lambda: _hr_samples(entry))
            if found is not None:
                times.append(found[0])
                bpm.append(found[1])
        all_times = np.concatenate(times) if times else np.zeros(0, "int64")
        all_bpm = np.concatenate(bpm) if bpm else np.zeros(0)
        from_sleep = by_sleep(nights, all_times, all_bpm, self.zone)
        decision = self._by_csv(all_times, all_bpm) or from_sleep
        if decision.intraday == "utc":
            decision.night_offsets = from_sleep.night_offsets
        for log_id, offset in decision.night_offsets.items():
            day = date.fromisoformat(self.sleeps[log_id][1]["dateOfSleep"])
            decision.day_offsets.setdefault(day - timedelta(days=1), offset)  # the evening the night began
        for log_id, offset in decision.night_offsets.items():
            decision.day_offsets.setdefault(date.fromisoformat(self.sleeps[log_id][1]["dateOfSleep"]), offset)
        self.summary.clock = decision

    def _by_csv(self, json_times: np.ndarray, json_bpm: np.ndarray) -> ClockDecision | None:
        instants, bpm = [], []
        for entry in self._of("google_heart_rate")[:3]:
            rows, found = self._guard(entry, lambda: _google_rows(entry)) or ([], np.zeros(0, "int64"))
            instants.append(found)
            bpm.append(np.array([float(r.get("beats per minute") or 0) for r in rows]))
        if not instants:
            return None
        return by_google_csv(json_times, json_bpm, np.concatenate(instants), np.concatenate(bpm), self.zone)

    # -- pass 2: landing ---------------------------------------------------------------------------

    def land_all(self) -> None:
        entries = [e for e in self.export.entries if e.name not in self.failed]
        total = sum(e.size for e in entries) or 1
        done = 0
        for entry in entries:
            self._land(entry)
            done += entry.size
            if self.progress:
                self.progress(done, total, entry.name)
        if self.summary.weight_unit is None and any(e.kind.family == "weight" for e in entries):
            self.summary.weight_unit = self.before_unit  # every weight file as last imported
        clock = self.summary.clock
        inputs = self._fingerprint(self._clock_inputs()) if not self.failed else None
        self.store.land(PROVIDER, "archive", [], detail={
            "path": str(self.export.path), "layout": self.export.layout, **clock.as_metadata(),
            "weight_unit": self.summary.weight_unit,
            # what the next import needs to know which files it need not read (another export's files kept)
            "files": {**self.before_files, **self.files},
            "clock_state": {"zone": self.zone.key, "inputs": inputs, "intraday": clock.intraday,
                            "method": clock.method, "evidence": clock.evidence, "night_offsets": clock.night_offsets,
                            "day_offsets": {str(k): v for k, v in clock.day_offsets.items()}} if inputs else {}})

    def _land(self, entry: Entry) -> None:
        """Land one file, unless it has the bytes and context of its last import."""
        data = None if entry.name in self.digests else self._guard(entry, entry.read)  # read once, if not yet
        if data is not None:
            self.digests[entry.name] = hashlib.sha256(data).hexdigest()
        digest = self.digests.get(entry.name)
        if digest is None:
            return
        context = self._context(entry)
        kept = self.before_files.get(entry.name)
        if kept and kept[:2] == [digest, context]:  # the same bytes, read the same way: nothing to do
            self.files[entry.name] = kept
            self.summary.unchanged_files += 1
            self.summary.counts.unchanged += kept[2]
            kind = self.summary.kinds.setdefault(entry.kind.family, KindSummary())
            kind.files += 1
            kind.records += kept[2]
            kind.days.update(kept[3])
            return
        data = data if data is not None else self._guard(entry, entry.read)
        if data is None:
            return
        entry = replace(entry, read=lambda data=data: data)
        records = self._guard(entry, lambda: list(self._records(entry)))
        if records is not None:
            self.files[entry.name] = [digest, context, len(records), sorted({r.day for r in records if r.day})]
            stale = self._stale(entry, records)
            counts = self.store.land(PROVIDER, entry.kind.family, records, retire=stale)
            counts.days.update(rid.split("#", 1)[1] for rid in stale)  # `land` counts no retired record's day
            self.summary.counts += counts
            kind = self.summary.kinds.setdefault(entry.kind.family, KindSummary())
            kind.files += 1
            kind.records += len(records)
            kind.days.update(r.day for r in records if r.day)

    def _digest(self, entry: Entry) -> str:
        if entry.name not in self.digests:
            self.digests[entry.name] = hashlib.sha256(entry.read()).hexdigest()
        return self.digests[entry.name]

    def _fingerprint(self, entries: list[Entry]) -> str | None:
        """One sha256 over files' names and sha256s (None if one cannot be read)."""
        found = hashlib.sha256()
        for entry in entries:
            digest = self._guard(entry, lambda: self._digest(entry))
            if digest is None:
                return None
            found.update(f"{entry.name}\0{digest}\n".encode())
        return found.hexdigest()

    def _context(self, entry: Entry) -> str:
        """What a family's records are derived with besides the file's bytes (a short sha256): the zone
        always; the intraday clock (minute series, exercise); the nights' offsets and every sleep file (sleep:
        a session repeated in two files is the later file's); the days' offsets and Google's weight files
        (weigh-ins: the unit, the instant, whether the CSV holds it)."""
        family, form = entry.kind.family, entry.kind.form
        if family not in self.contexts:
            clock = self.summary.clock
            parts: list[object] = [self.zone.key]
            if form == "minutes" or family in ("exercise", "sleep"):
                parts.append(clock.intraday)
            if family == "sleep":
                parts += [sorted(clock.night_offsets.items()), self._fingerprint(self._of("sleep"))]
            if family == "weight":
                parts += [sorted((str(k), v) for k, v in clock.day_offsets.items()),
                          self._fingerprint(self._of("google_weight"))]
            self.contexts[family] = hashlib.sha256(orjson.dumps(parts)).hexdigest()[:16]
        return self.contexts[family]

    def _stale(self, entry: Entry, records: list[RawRecord]) -> list[str]:
        """The file's day records landed before that it no longer has (its rows dated otherwise now: an
        earlier import's days, or another configured zone's): tombstoned as the new ones land."""
        if entry.kind.form in ("items", "daily"):
            return []
        if entry.kind.family not in self.landed:
            with self.store.connection() as conn:
                found: dict[str, set[str]] = {}
                for (record_id,) in conn.execute(
                        "SELECT record_id FROM records WHERE person = ? AND provider = ? AND resource = ? "
                        "AND deleted_at IS NULL", (self.store.person, PROVIDER, entry.kind.family)):
                    found.setdefault(record_id.split("#", 1)[0], set()).add(record_id)
            self.landed[entry.kind.family] = found
        return sorted(self.landed[entry.kind.family].get(entry.base, set()) - {r.record_id for r in records})

    def _records(self, entry: Entry) -> Iterable[RawRecord]:
        form = entry.kind.form
        if form == "minutes":
            return self._minutes(entry)
        if form == "daily":
            return self._daily(entry)
        if form == "daily_csv":
            return self._daily_csv(entry)
        if form == "google_csv":
            return self._google_csv(entry)
        if form == "google_daily":
            rows = _checked_rows(entry)
            return list(self._group(entry, rows, _google_daily_days(entry, rows, self.zone), {}))
        return self._items(entry)

    def _offset(self, day: date) -> int:
        """The UTC offset lived on a local day, to place a wall-clock weigh-in in time: from its nights'
        heart rate (a trip), else the configured zone's. It never changes the day."""
        found = self.summary.clock.day_offsets.get(day)
        return found if found is not None else offset_at(self.zone, (day.toordinal() - 719163) * DAY_S + 43_200)

    def _days(self, times: np.ndarray, clock: str) -> np.ndarray:
        """The day of each timestamp of the intraday clock: UTC instants on the configured zone's calendar;
        local wall-clock times (a clock detected as local) on their own date."""
        return zone_days(times, self.zone) if clock == "utc" else times // DAY_S

    def _group(self, entry: Entry, rows: list[Any], days: np.ndarray, envelope: dict[str, Any]) -> Iterable[RawRecord]:
        for number in np.unique(days):
            day = date.fromordinal(int(number) + 719163)
            picked = [rows[i] for i in np.flatnonzero(days == number)]
            payload = {"file": entry.base, **envelope, "rows": picked}
            # orjson writes the store's compact form (key order kept, UTF-8) five times faster than json.
            yield RawRecord(f"{entry.base}#{day}", day.isoformat(), payload, orjson.dumps(payload).decode())

    def _minutes(self, entry: Entry) -> Iterable[RawRecord]:
        rows = _json(entry)
        times = _times(rows, entry)
        clock = self.summary.clock.intraday
        # Not the file's date: `heart_rate-<day>.json` is a day of the zone the tracker was in, which is
        # not the configured zone's day on a trip, nor ever in a store kept in another zone.
        return list(self._group(entry, rows, self._days(times, clock), {"clock": clock}))

    def _google_csv(self, entry: Entry) -> Iterable[RawRecord]:
        rows, utc = _google_rows(entry)
        return list(self._group(entry, rows, zone_days(utc, self.zone), {"clock": "utc"}))

    def _daily(self, entry: Entry) -> Iterable[RawRecord]:
        found = []
        for row in _json(entry):
            try:
                day = datetime.strptime(str(row["dateTime"])[:8], JSON_DAY).date()
            except (KeyError, TypeError, ValueError):
                raise FileError(f"{entry.name}: a row's dateTime is not MM/DD/YY ({row!r:.80})") from None
            found.append(RawRecord(f"{entry.base}#{day}", day.isoformat(), {"file": entry.base, "row": row}))
        return found

    def _daily_csv(self, entry: Entry) -> Iterable[RawRecord]:
        found = []
        for row in _csv_rows(entry):
            stamp = row.get("timestamp") or row.get("sleep_end") or ""
            try:
                day = date.fromisoformat(stamp[:10])
            except ValueError:
                raise FileError(f"{entry.name}: a row's timestamp is not a date ({stamp!r})") from None
            found.append(RawRecord(f"{entry.base}#{day}", day.isoformat(), {"file": entry.base, "row": row}))
        return found

    def _items(self, entry: Entry) -> Iterable[RawRecord]:
        family = entry.kind.family
        if family == "sleep":
            return [RawRecord(log_id, str(item.get("dateOfSleep")), self._sleep_envelope(entry, log_id, item))
                    for log_id, (file, item) in self.sleeps.items() if file == entry.base]
        items = [i for i in _json(entry) if isinstance(i, dict)]
        if any("logId" not in i for i in items):
            raise FileError(f"{entry.name}: an item has no logId")
        if family == "weight":
            return self._weights(entry, items)
        return self._exercises(entry, items)

    def _sleep_envelope(self, entry: Entry, log_id: str, item: dict[str, Any]) -> dict[str, Any]:
        offset = self.summary.clock.night_offsets.get(log_id)
        start = naive_seconds([str(item.get("startTime"))], "ISO8601")[0]
        return {"file": entry.base, "utc_offset_s": offset if offset is not None else offset_at(self.zone, int(start)),
                "offset_from": "heart_rate" if offset is not None else "zone", "item": item}

    def _weights(self, entry: Entry, items: list[dict[str, Any]]) -> list[RawRecord]:
        ratios = [float(i["weight"]) / float(i["bmi"]) for i in items if i.get("bmi") and i.get("weight")]
        unit = "lb" if ratios and median(ratios) > LB_RATIO else "kg"
        self.summary.weight_unit = unit
        found = []
        for item in items:
            try:
                local = datetime.strptime(f"{item['date']} {item.get('time') or '23:59:59'}", f"{JSON_DAY} %H:%M:%S")
            except (KeyError, ValueError):
                raise FileError(f"{entry.name}: weight {item.get('logId')}: date is not MM/DD/YY") from None
            offset = self._offset(local.date())
            envelope = {"file": entry.base, "unit": unit, "utc_offset_s": offset, "item": item}
            if self._in_google_csv(local, float(item.get("weight") or 0) * (LB_KG if unit == "lb" else 1.0)):
                envelope["in_google_csv"] = True  # modelled from the CSV (exact instant, grams), not twice
            found.append(RawRecord(str(item["logId"]), local.date().isoformat(), envelope))
        return found

    def _in_google_csv(self, local: datetime, kg: float) -> bool:
        """Whether Google's weight CSV of this export holds this weigh-in: the same weight (to the 0.1 lb
        Fitbit keeps) within the day around its wall-clock time (whatever the zone it was written in)."""
        if self.google_weights is None:
            self.google_weights = []
            for entry in self._of("google_weight"):
                rows, utc = self._guard(entry, lambda: _google_rows(entry)) or ([], np.zeros(0, "int64"))
                self.google_weights += [(int(t), float(r["weight grams"]) / 1000) for r, t in zip(rows, utc)
                                        if (r.get("weight grams") or "").replace(".", "", 1).isdigit()]
        wall = (local - datetime(1970, 1, 1)).total_seconds()
        return any(abs(t - wall) <= 14 * 3600 and abs(grams_kg - kg) < 0.05 for t, grams_kg in self.google_weights)

    def _exercises(self, entry: Entry, items: list[dict[str, Any]]) -> list[RawRecord]:
        clock = self.summary.clock.intraday
        found = []
        for item in items:
            text = str(item.get("startTime"))
            fmt = JSON_TIME if "/" in text else "ISO8601"
            start = naive_seconds([text], fmt)[0]
            if start < 0:
                raise FileError(f"{entry.name}: exercise {item['logId']}: startTime {text!r} is not a time")
            day = date.fromordinal(int(self._days(np.array([start], dtype="int64"), clock)[0]) + 719163)
            found.append(RawRecord(str(item["logId"]), day.isoformat(), {"file": entry.base, "clock": clock, "item": item}))
        return found

    # -- helpers -----------------------------------------------------------------------------------

    def _of(self, family: str) -> list[Entry]:
        return [e for e in self.export.entries if e.kind.family == family and e.name not in self.failed]

    def _guard(self, entry: Entry, work: Callable[[], Any]) -> Any:
        """Run `work` on one file; a `FileError` marks the file failed (it lands nothing) and returns None."""
        try:
            return work()
        except FileError as err:
            self.failed.add(entry.name)
            self.summary.failed.append(str(err))
            return None


def import_takeout(path: Path, store: RawStore, zone: ZoneInfo, progress: Progress | None = None) -> ImportSummary:
    """Read the export at `path` into `store` (`ArchiveError` if it cannot be read at all)."""
    with open_export(path) as export, store.connection():
        # The open connection keeps SQLite from checkpointing the WAL each time a file's transaction closes.
        importer = _Importer(export, store, zone, progress)
        importer.detect_or_reuse()
        importer.land_all()
        return importer.summary
