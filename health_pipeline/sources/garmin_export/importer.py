"""Importing a Garmin Connect export into the raw store, provider `garmin_export`, one resource per file
family (garmin-export.md). Records are kept verbatim, by the records' own ids and dates:

  uds            `<calendarDate>`            the day's summary, as written (`UDSFile_*.json`)
  sleep          `<calendarDate>`            the night ending that day (`*_sleepData.json`)
  health_status  `<calendarDate>`            the night's HRV, heart rate, breathing, SpO2 (`*_healthStatusData.json`)
  activities     `<activityId>`              an activity summary (`*_summarizedActivities.json`)
  biometrics     `<timestampGMT, epoch ms>`  {"measured_ms", "item"}: a weigh-in snapshot (`*_userBioMetrics.json`)
  monitoring     `<upload>#<day>`            {"upload", "file_sha256", "utc_offset_s", "offset_from",
                                             "samples": [[unix s, bpm], …]}
                                             a monitoring FIT file's heart rate on one local day
  activity_fit   `<activityId>#<day>`        {"activity_id", "upload", "file_sha256", "utc_offset_s", "offset_from", "sport",
                                             "avg_heart_rate", "samples"}: an activity FIT file's heart rate,
                                             joined to its summary by start time (`upload-<n>#<day>` unmatched)

The JSON families are split over files with overlapping dates: every file of a family is read first
and the later file's copy of a record wins (names sort by date), so a record lands once and importing
the same export again changes nothing. Then each file lands its records in its own transaction: a
truncated or corrupt file lands nothing and is one line of the summary, the others land.

Days (§8): `calendarDate` is Garmin's local day; an activity's day is that of `startTimeLocal`; a FIT
file's samples are dated with the file's own offset (`monitoring_info` / `activity.local_timestamp` minus
`timestamp`); what has no offset of its own (weigh-ins, a FIT file without one) in the configured zone.
"""

import hashlib
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import fitdecode
import orjson

from health_pipeline.sources.garmin_export.archive import FAMILIES, FIT, Entry, Export, FileError, open_export
from health_pipeline.storage.raw_store import LandingCounts, RawRecord, RawStore

PROVIDER = "garmin_export"
DAY_S = 86_400
FIT_EPOCH_S = 631_065_600  # 1989-12-31T00:00:00Z: FIT time 0
SYSTEM_TIME_MAX = 0x10000000  # FIT date_time values below this are seconds since device power-on, not instants
MATCH_WINDOW_S = 60  # an activity FIT file belongs to the summary starting closest to it, within a minute
MONITORING_TYPES = {"monitoring_a", "monitoring_b", "monitoring_daily", 15, 28, 32}

Progress = Callable[[int, int, str], None]  # (bytes done, bytes in all, file)


@dataclass
class FamilySummary:
    """What one family of files gave."""

    files: int = 0
    records: int = 0
    days: set[str] = field(default_factory=set)


@dataclass
class ImportSummary:
    """What an import did: per family the files, records and days; the files that failed."""

    path: Path
    families: dict[str, FamilySummary] = field(default_factory=dict)
    counts: LandingCounts = field(default_factory=LandingCounts)
    failed: list[str] = field(default_factory=list)  # one line per file that landed nothing
    skipped: int = 0  # files of the export not read (gear, goals, …)
    fit_skipped: int = 0  # FIT files of other types (sleep, metrics, stubs, …)
    fits_unmatched: int = 0  # activity FIT files without a summary starting within a minute

    def _days(self) -> list[str]:
        return [d for f in self.families.values() for d in f.days]

    @property
    def first_day(self) -> date | None:
        days = self._days()
        return date.fromisoformat(min(days)) if days else None

    @property
    def last_day(self) -> date | None:
        days = self._days()
        return date.fromisoformat(max(days)) if days else None

    def lines(self) -> list[str]:
        """The summary a person reads at the end (no file name carries the email or user id)."""
        out = [f"{self.path.name}: Garmin Connect export"]
        for family, f in sorted(self.families.items()):
            span = f"{min(f.days)}..{max(f.days)}" if f.days else "-"
            out.append(f"  {family:<14} {f.files:>6} files {f.records:>8} records {len(f.days):>5} days  {span}")
        c = self.counts
        out.append(f"  records: {c.new} new, {c.changed} changed, {c.unchanged} unchanged; {self.skipped} files and "
                   f"{self.fit_skipped} FIT files of other types not imported; {self.fits_unmatched} activity FIT "
                   "files without a summary")
        out += [f"  FAILED {line}" for line in self.failed]
        return out

    def as_metadata(self) -> dict[str, object]:
        return {**self.counts.as_metadata(), "files_failed": len(self.failed), "failures": self.failed[:10],
                "files_not_imported": self.skipped, "fit_files_not_imported": self.fit_skipped,
                "activity_fits_without_summary": self.fits_unmatched,
                **{f"{family}_records": f.records for family, f in sorted(self.families.items())},
                "first_day": str(self.first_day), "last_day": str(self.last_day)}


# -- reading values -------------------------------------------------------------------------------


def epoch_ms(value: Any) -> int | None:
    """An instant written as epoch ms (an int, or a float such as `1.78E12`) or as a zone-less ISO string
    meant as UTC (`2026-02-13T21:40:09.0`), as epoch ms; None when it is neither."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().rstrip("Z"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return int(parsed.timestamp() * 1000)
    return None


def local_day(unix_s: float, zone: ZoneInfo) -> date:
    """The day an instant falls on in a zone."""
    return datetime.fromtimestamp(unix_s, zone).date()


def _calendar_day(item: dict[str, Any]) -> str | None:
    text = item.get("calendarDate")
    if not isinstance(text, str):
        return None  # the trailing `{"retro": false}` of the newest sleep file, and other stray elements
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return None


def _json(entry: Entry) -> list[Any]:
    try:
        data = orjson.loads(entry.read())
    except (UnicodeDecodeError, orjson.JSONDecodeError) as err:
        raise FileError(f"{entry.name}: not valid JSON, truncated or corrupt ({err})") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise FileError(f"{entry.name}: expected a JSON array, got {type(data).__name__}")
    return data


def _activities(data: list[Any]) -> Iterable[dict[str, Any]]:
    """The activity summaries of a file: `[{"summarizedActivitiesExport": [...]}]`, or a bare array."""
    for element in data:
        if isinstance(element, dict) and isinstance(element.get("summarizedActivitiesExport"), list):
            yield from (a for a in element["summarizedActivitiesExport"] if isinstance(a, dict))
        elif isinstance(element, dict) and "activityId" in element:
            yield element


class _Importer:
    def __init__(self, export: Export, store: RawStore, zone: ZoneInfo, progress: Progress | None) -> None:
        self.export, self.store, self.zone, self.progress = export, store, zone, progress
        self.summary = ImportSummary(export.path, skipped=export.skipped, failed=list(export.failed))
        self.failed: set[str] = set()
        # family -> record id -> (file, record): the later file's copy wins
        self.winners: dict[str, dict[str, tuple[str, RawRecord]]] = {f: {} for f in FAMILIES}
        self.starts: list[tuple[int, str, str]] = []  # (start unix s, activityId, local day) of the summaries
        self.claimed: set[str] = set()
        self.landed = _landed_fits(store)
        total = sum(e.size for e in (*export.files, *export.fits))
        self.total, self.done = total or 1, 0

    # -- JSON ----------------------------------------------------------------------------------------

    def read_json(self) -> None:
        for entry in self.export.files:
            records = self._guard(entry, lambda: list(self._records(entry)))
            for record in records or ():
                self.winners[entry.family][record.record_id] = (entry.name, record)
        for activity_id, (_, record) in self.winners["activities"].items():
            start = epoch_ms(record.payload.get("startTimeGmt", record.payload.get("beginTimestamp")))
            if start is not None and record.day:
                self.starts.append((start // 1000, activity_id, record.day))
        self.starts.sort()

    def _records(self, entry: Entry) -> Iterable[RawRecord]:
        data = _json(entry)
        if entry.family == "activities":
            return self._activity_records(data)
        if entry.family == "biometrics":
            return self._weigh_ins(data)
        found = []
        for item in data:
            day = _calendar_day(item) if isinstance(item, dict) else None
            if day is not None:
                found.append(RawRecord(day, day, item))
        return found

    def _activity_records(self, data: list[Any]) -> list[RawRecord]:
        found = []
        for item in _activities(data):
            start = epoch_ms(item.get("startTimeGmt", item.get("beginTimestamp")))
            if start is None:
                continue
            local = epoch_ms(item.get("startTimeLocal"))  # epoch ms already shifted to the wall clock
            day = (datetime.fromtimestamp(local / 1000, timezone.utc).date() if local is not None
                   else local_day(start / 1000, self.zone))
            found.append(RawRecord(str(item["activityId"]), day.isoformat(), item))
        return found

    def _weigh_ins(self, data: list[Any]) -> list[RawRecord]:
        found = []
        for item in data:
            weight = item.get("weight") if isinstance(item, dict) else None
            if not isinstance(weight, dict) or not weight.get("weight"):
                continue  # a VO2 max, lactate threshold or FTP snapshot: kept out (no weigh-in)
            at = epoch_ms(weight.get("timestampGMT"))
            if at is None:
                continue
            day = local_day(at / 1000, self.zone)  # no offset of its own: the configured zone
            found.append(RawRecord(str(at), day.isoformat(), {"measured_ms": at, "item": item}))
        return found

    def land_json(self) -> None:
        for entry in self.export.files:
            if entry.name not in self.failed:
                records = [r for name, r in self.winners[entry.family].values() if name == entry.name]
                self._land(entry, "biometrics" if entry.family == "biometrics" else entry.family, records)
            self._advance(entry)

    # -- FIT -----------------------------------------------------------------------------------------

    def land_fits(self) -> None:
        for entry in self.export.fits:
            data = self._guard(entry, entry.read)
            if data is None:
                self._advance(entry)
                continue
            digest = hashlib.sha256(data).hexdigest()
            upload = entry.number or entry.base.rsplit(".", 1)[0]
            known = self.landed.get(upload)
            if known is not None and known[0] == digest:
                # The same file as landed before (its records carry its hash): decoding it again would land the
                # same records (a ten-year export's FIT files take minutes to decode, their hashes a second).
                self._count_unchanged(known[1], known[2])
                if known[3] is not None:
                    self.claimed.add(known[3])
                self._advance(entry)
                continue
            records = self._guard(entry, lambda: self._fit_records(entry, data, upload, digest))
            if records is not None and records[0]:
                self._land(entry, records[0], records[1])
            elif records is not None:
                self.summary.fit_skipped += 1
            self._advance(entry)

    def _count_unchanged(self, resource: str, days: list[str]) -> None:
        self.summary.counts += LandingCounts(unchanged=len(days))
        family = self.summary.families.setdefault(resource, FamilySummary())
        family.files += 1
        family.records += len(days)
        family.days.update(days)

    def _fit_records(self, entry: Entry, data: bytes, upload: str, digest: str) -> tuple[str, list[RawRecord]]:
        kind, info_offset, samples, session, local_stamp = None, None, [], {}, None
        last_full: int | None = None  # FIT seconds of the last full timestamp, for `timestamp_16`
        try:
            # processor=None: values as the file holds them (date_time as FIT seconds, enums by name), twice as
            # fast as fitdecode's default processor, which makes datetimes of them
            with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE, processor=None,
                                     keep_raw_chunks=False) as reader:
                for frame in reader:
                    if not isinstance(frame, fitdecode.FitDataMessage):
                        continue
                    name = frame.name
                    if name == "file_id":
                        kind = frame.get_value("type", fallback=None)
                        if kind == "activity":
                            continue
                        if kind not in MONITORING_TYPES:
                            return "", []  # a sleep, metrics, stub or settings file: not read
                        created = _fit_s(frame.get_value("time_created", fallback=None))
                        last_full = created if created is not None else last_full
                    elif name == "monitoring_info":
                        stamp, local = (_fit_s(frame.get_value(f, fallback=None)) for f in ("timestamp", "local_timestamp"))
                        if stamp is not None and local is not None:
                            info_offset = local - stamp
                            last_full = stamp
                    elif name == "monitoring":
                        stamp = _fit_s(frame.get_value("timestamp", fallback=None))
                        if stamp is not None:
                            last_full = stamp
                        else:
                            short = frame.get_value("timestamp_16", fallback=None)
                            if short is None or last_full is None:
                                continue
                            # FIT-epoch arithmetic: the low 16 bits are of FIT time, not of Unix time
                            last_full = last_full + ((int(short) - last_full) & 0xFFFF)
                        bpm = frame.get_value("heart_rate", fallback=None)
                        if bpm and last_full >= SYSTEM_TIME_MAX:
                            samples.append((last_full + FIT_EPOCH_S, int(bpm)))
                    elif name == "record":
                        stamp = _fit_s(frame.get_value("timestamp", fallback=None))
                        bpm = frame.get_value("heart_rate", fallback=None)
                        if stamp is not None and stamp >= SYSTEM_TIME_MAX and bpm:
                            samples.append((stamp + FIT_EPOCH_S, int(bpm)))
                    elif name == "session":
                        session = {"start": _fit_s(frame.get_value("start_time", fallback=None)),
                                   "sport": frame.get_value("sport", fallback=None),
                                   "avg_heart_rate": frame.get_value("avg_heart_rate", fallback=None)}
                    elif name == "activity":
                        stamp, local = (_fit_s(frame.get_value(f, fallback=None)) for f in ("timestamp", "local_timestamp"))
                        if stamp is not None and local is not None:
                            local_stamp = local - stamp
        except (fitdecode.FitError, EOFError, ValueError, KeyError, IndexError, TypeError) as err:
            raise FileError(f"{entry.name}: not a readable FIT file, truncated or corrupt ({err})") from None
        if kind is None:
            raise FileError(f"{entry.name}: not a FIT file with a file_id")
        if kind == "activity":
            return "activity_fit", self._activity_fit(upload, digest, samples, session, local_stamp)
        by_day = self._by_day(samples, info_offset)
        return "monitoring", [RawRecord(f"{upload}#{day}", day, {"upload": upload, "file_sha256": digest,
                                                                  "utc_offset_s": info_offset,
                                                                  "offset_from": "file" if info_offset is not None else "zone",
                                                                  "samples": rows})
                              for day, rows in by_day.items()]

    def _activity_fit(self, upload: str, digest: str, samples: list[tuple[int, int]], session: dict[str, Any],
                      offset: int | None) -> list[RawRecord]:
        start = session.get("start")
        start_unix = start + FIT_EPOCH_S if start is not None else (samples[0][0] if samples else None)
        activity_id = self._match(start_unix) if start_unix is not None else None
        if activity_id is None:
            self.summary.fits_unmatched += 1
        key = activity_id or f"upload-{upload}"
        envelope = {"activity_id": activity_id, "upload": upload, "file_sha256": digest, "utc_offset_s": offset,
                    "offset_from": "file" if offset is not None else "zone", "sport": session.get("sport"),
                    "avg_heart_rate": session.get("avg_heart_rate"), "start": start_unix}
        return [RawRecord(f"{key}#{day}", day, {**envelope, "samples": rows})
                for day, rows in self._by_day(samples, offset).items()]

    def _match(self, start: int) -> str | None:
        """The summary starting closest to `start` within MATCH_WINDOW_S, not yet claimed by another file."""
        best = None
        for begins, activity_id, _ in self.starts:  # a few thousand summaries: a scan is fine
            gap = abs(begins - start)
            if gap <= MATCH_WINDOW_S and activity_id not in self.claimed and (best is None or gap < best[0]):
                best = (gap, activity_id)
        if best is None:
            return None
        self.claimed.add(best[1])
        return best[1]

    def _by_day(self, samples: list[tuple[int, int]], offset: int | None) -> dict[str, list[list[int]]]:
        """Samples (unix s, bpm) by local day: with the file's own offset, else in the configured zone."""
        found: dict[str, list[list[int]]] = {}
        days: dict[int, str] = {}
        for at, bpm in sorted(set(samples)):
            if offset is not None:
                number = (at + offset) // DAY_S
                day = days.get(number) or days.setdefault(number, date.fromordinal(number + 719163).isoformat())
            else:
                day = local_day(at, self.zone).isoformat()
            found.setdefault(day, []).append([at, bpm])
        return found

    # -- helpers -------------------------------------------------------------------------------------

    def _land(self, entry: Entry, resource: str, records: list[RawRecord]) -> None:
        counts = self.store.land(PROVIDER, resource, records)
        self.summary.counts += counts
        family = self.summary.families.setdefault(resource, FamilySummary())
        family.files += 1
        family.records += len(records)
        family.days.update(r.day for r in records if r.day)

    def _advance(self, entry: Entry) -> None:
        self.done += entry.size
        if self.progress:
            self.progress(self.done, self.total, entry.name)

    def _guard(self, entry: Entry, work: Callable[[], Any]) -> Any:
        """Run `work` on one file; a `FileError` marks the file failed (it lands nothing) and returns None."""
        try:
            return work()
        except FileError as err:
            self.failed.add(entry.name)
            self.summary.failed.append(str(err))
            return None


def _landed_fits(store: RawStore) -> dict[str, tuple[str, str, list[str], str | None]]:
    """The FIT files landed before, by upload number: (their bytes' sha256, resource, their records' days, the
    activity they were joined to).
    An activity file that found no summary is left out (a later export may hold its summary)."""
    found: dict[str, tuple[str, str, list[str], str | None]] = {}
    rows = store.payload_values(PROVIDER, ("monitoring", "activity_fit"), ("$.upload", "$.file_sha256", "$.activity_id"))
    for resource, day, upload, digest, activity_id in rows:
        if upload is None or digest is None or (resource == "activity_fit" and activity_id is None):
            continue
        known = found.setdefault(str(upload), (digest, resource, [], activity_id))
        if known[0] == digest:
            known[2].append(day)
    return found


def _fit_s(value: Any) -> int | None:
    """A FIT date_time as FIT seconds (read raw; an aware datetime from fitdecode's default processor too)."""
    if isinstance(value, datetime):
        return int(value.timestamp()) - FIT_EPOCH_S
    if isinstance(value, int):
        return value
    return None


def import_garmin_export(path: Path, store: RawStore, zone: ZoneInfo, progress: Progress | None = None) -> ImportSummary:
    """Read the export at `path` into `store` (`ArchiveError` if it cannot be read at all)."""
    with open_export(path) as export, store.connection():
        # The open connection keeps SQLite from checkpointing the WAL each time a file's transaction closes.
        importer = _Importer(export, store, zone, progress)
        importer.read_json()
        importer.land_json()
        importer.land_fits()
        return importer.summary
