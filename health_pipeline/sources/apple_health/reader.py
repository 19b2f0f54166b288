"""Streaming `export.xml` into groups of records, one per HealthKit type and local day, without ever
holding the file (or more than one group) in memory.

The bytes are fed to expat (the C parser behind the standard library's XML modules, the fastest
streaming parser measured, bench/README.md) after the internal DTD, which carries nothing an importer
needs and which iOS 16 wrote malformed, and with the control characters some exports carry inside
attribute values removed. Only elements directly under `HealthData` are items; records inside a
`Correlation` are kept as its children (the export repeats them at the top level). Attributes are
kept verbatim; children become lists: `metadata` ([key, value] pairs; keys can repeat), `beats`
(HRV's [bpm, time]), `statistics`, `events`, `routes`, `records`, `locations`.

A record's local day is its own clock's date (a sleep sample's: the morning its sleep ended, so a night
is one day's record): the `HKTimeZone` its source wrote if any, else the
UTC offset in its date (a date without one is on the home clock: its date too; the tidy SQL reads its
instant in the configured time zone).
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO
from xml.parsers import expat
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from health_pipeline.sources.apple_health.archive import ExportError

CHUNK = 1 << 20
SESSION_GAP_S = 2 * 3600  # samples of one source further apart are two sleeps
CONTROL = bytes(c for c in range(32) if c not in (9, 10, 13))  # not allowed in XML 1.0
PREFIXES = ("HKQuantityTypeIdentifier", "HKCategoryTypeIdentifier", "HKCorrelationTypeIdentifier", "HKDataType")
CHILD_LISTS = {"WorkoutStatistics": "statistics", "WorkoutEvent": "events", "WorkoutZoneGroup": "zone_groups",
               "WorkoutActivity": "activities"}
FLATTENED = {"InstantaneousBeatsPerMinute": "beats", "FileReference": "routes", "Location": "locations"}
ITEMS = ("Record", "Workout", "Correlation", "ActivitySummary")

Part = tuple[str, str, bytes, Counter[str]]  # (resource, day, JSON array of the records, records per source)


def resource_of(kind: str, correlation: bool = False) -> str:
    """`HKQuantityTypeIdentifierHeartRate` -> `heart_rate`; a correlation's -> `correlation_blood_pressure`."""
    short = kind
    for prefix in PREFIXES:
        if kind.startswith(prefix):
            short = kind[len(prefix):]
            break
    snake = "".join("_" + c.lower() if c.isupper() and i and not short[i - 1].isupper() else c.lower()
                    for i, c in enumerate(short)).strip("_")
    snake = "".join(c if c.isalnum() else "_" for c in snake) or "unknown"
    return f"correlation_{snake}" if correlation else snake


@dataclass
class ReadStats:
    """What reading the XML found, for the summary."""

    locale: str = ""
    version: str = ""
    export_date: str = ""
    records: Counter[str] = field(default_factory=Counter)  # resource -> items
    not_imported: Counter[str] = field(default_factory=Counter)  # element -> count (ClinicalRecord, Audiogram, …)
    types: dict[str, str] = field(default_factory=dict)  # resource -> the HealthKit type it holds


class ExportReader:
    """Parses one export.xml, handing each completed (resource, day) part to `emit`."""

    def __init__(self, emit: Callable[[Part], None]) -> None:
        self.emit = emit
        self.stats = ReadStats()
        self.depth = 0
        self.item: dict | None = None  # the top-level element being read
        self.tag = ""
        self.child: dict | None = None  # its last direct child (for grandchildren: a nested record's metadata)
        self.key: tuple[str, str] | None = None
        self.group: list[dict] = []
        self.sources: Counter[str] = Counter()
        self._resources: dict[tuple[str, bool], str] = {}
        self._zones: dict[str, ZoneInfo | None] = {}
        self._days: dict[str, bool] = {}
        self.sleep: list[tuple] = []  # (source, start, end, HKTimeZone, own end date, the record as JSON)

    # -- feeding ---------------------------------------------------------------------------------

    def read(self, stream: IO[bytes], name: str, progress: Callable[[int], None]) -> ReadStats:
        parser = expat.ParserCreate("UTF-8")
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CommentHandler = self._comment
        head = b""
        done = 0
        try:
            while True:  # skip the DTD: everything before the root element
                chunk = stream.read(CHUNK)
                done += len(chunk)
                head += chunk
                at = head.find(b"<HealthData")
                if at >= 0 or not chunk:
                    break
            if at < 0:
                raise ExportError(f"{name}: not an Apple Health export (no <HealthData> element)")
            self._comment(head[:at].decode("utf-8", "replace"))
            parser.Parse(head[at:].translate(None, CONTROL), False)
            progress(done)
            while chunk := stream.read(CHUNK):
                done += len(chunk)
                parser.Parse(chunk.translate(None, CONTROL), False)
                progress(done)
            parser.Parse(b"", True)
        except expat.ExpatError as err:
            reason = "ends before the export does (truncated)" if parser.ErrorCode == expat.errors.codes[
                expat.errors.XML_ERROR_NO_ELEMENTS] or not chunk else "is not well-formed"
            raise ExportError(f"{name}: {reason} at line {err.lineno}: {expat.errors.messages[err.code]}; "
                              "nothing was imported") from None
        self._finish()
        self._flush()
        self._file_sleep()
        return self.stats

    def _comment(self, text: str) -> None:
        marker = "HealthKit Export Version:"
        if marker in text and not self.stats.version:
            self.stats.version = text.split(marker, 1)[1].split("-->", 1)[0].strip().split()[0]

    # -- handlers --------------------------------------------------------------------------------

    def _start(self, name: str, attrs: dict) -> None:
        self.depth += 1
        depth = self.depth
        if depth == 2:
            self._finish()
            if name in ITEMS:
                self.item, self.tag = attrs, name
            else:
                self.item = None
                if name == "ExportDate":
                    self.stats.export_date = attrs.get("value", "")
                elif name != "Me":  # the person's characteristics: date of birth, sex; not kept
                    self.stats.not_imported[name] += 1
        elif depth == 1:
            self.stats.locale = attrs.get("locale", "")
        elif self.item is not None:
            if name in FLATTENED:  # inside a list element (HRV's beats, a route's file or points): the item's
                self.item.setdefault(FLATTENED[name], []).append(
                    attrs.get("path") if name == "FileReference" else
                    [attrs.get("bpm"), attrs.get("time")] if name == "InstantaneousBeatsPerMinute" else attrs)
                return
            if name in ("HeartRateVariabilityMetadataList", "WorkoutRoute"):  # their children are flattened
                if depth == 3:
                    self.child = None
                return
            target = self.item if depth == 3 else self.child
            if target is None:
                return
            if name == "MetadataEntry":
                target.setdefault("metadata", []).append([attrs.get("key"), attrs.get("value")])
            elif name == "Record":
                target.setdefault("records", []).append(attrs)
            elif name in CHILD_LISTS:
                target.setdefault(CHILD_LISTS[name], []).append(attrs)
            elif name != "HeartRateVariabilityMetadataList":
                target.setdefault("other", []).append({"element": name, **attrs})
            if depth == 3:
                self.child = attrs

    def _end(self, name: str) -> None:
        self.depth -= 1

    # -- grouping --------------------------------------------------------------------------------

    def _finish(self) -> None:
        """File the top-level element just read under its resource and local day."""
        item, self.item, self.child = self.item, None, None
        if item is None:
            return
        tag = self.tag
        if tag == "ActivitySummary":
            resource, day = "activity_summary", item.get("dateComponents", "")[:10]
            kind = "ActivitySummary"
        else:
            kind = item.pop("type", None) if tag != "Workout" else "Workout"
            if kind is None:
                self.stats.not_imported[f"{tag} without a type"] += 1
                return
            cached = (kind, tag == "Correlation")
            resource = self._resources.get(cached)
            if resource is None:
                resource = self._resources[cached] = "workout" if tag == "Workout" else resource_of(kind, cached[1])
                self.stats.types[resource] = kind
            if resource == "sleep_analysis":
                self._sleep(item)
                return
            day = self._day(item)
            if day is None:
                self.stats.not_imported[f"{tag} without a readable date"] += 1
                return
        key = (resource, day)
        if key != self.key:
            self._flush()
            self.key = key
            self.stats.types.setdefault(resource, kind)
        self.group.append(item)
        self.sources[item.get("sourceName", "")] += 1

    def _day(self, item: dict) -> str | None:
        start = item.get("startDate", "")
        if len(start) < 10:
            return None
        for key, value in item.get("metadata", ()):
            if key == "HKTimeZone":
                zone = self._zone(value)
                if zone is not None:
                    instant = self._instant(start)
                    if instant is not None:
                        return instant.astimezone(zone).date().isoformat()
        day = start[:10]
        if day not in self._days:  # each distinct date checked once
            self._days[day] = self._instant(day) is not None
        return day if self._days[day] else None  # `2026-03-29 02:30:00 +0200`: its own clock's date (a date without an offset: the home clock's)

    def _sleep(self, item: dict) -> None:
        """Keep a sleep sample for `_file_sleep` (compactly: a night is a few dozen samples)."""
        start, end = self._instant(item.get("startDate", "")), self._instant(item.get("endDate", ""))
        if start is None or end is None or start.tzinfo is None and end.tzinfo is not None:
            self.stats.not_imported["sleep sample without a readable date"] += 1
            return
        zone = next((self._zone(v) for k, v in item.get("metadata", ()) if k == "HKTimeZone"), None)
        self.sleep.append((item.get("sourceName", ""), start, end, zone, item.get("endDate", "")[:10],
                           orjson.dumps(item)))

    def _file_sleep(self) -> None:
        """File the sleep samples under the morning each night ends: per source, samples less than
        `SESSION_GAP` apart are one sleep, and all of them count towards the local day of its last end
        (on the `HKTimeZone` its source wrote, else on its own clock), however the night crossed midnight
        or time zones."""
        samples = sorted(self.sleep, key=lambda s: (s[0], s[1].timestamp(), s[2].timestamp()))
        self.sleep = []
        session: list[tuple] = []
        for sample in [*samples, None]:
            if session and (sample is None or sample[0] != session[0][0]
                            or sample[1].timestamp() > max(s[2].timestamp() for s in session) + SESSION_GAP_S):
                last = max(session, key=lambda s: s[2].timestamp())
                day = last[2].astimezone(last[3]).date().isoformat() if last[3] is not None and last[2].tzinfo \
                    else last[4]
                self.key = ("sleep_analysis", day)
                self.group = [orjson.loads(s[5]) for s in session]
                self.sources = Counter({session[0][0]: len(session)})
                self._flush()
                session = []
            if sample is not None:
                session.append(sample)

    def _zone(self, name: str) -> ZoneInfo | None:
        if name not in self._zones:
            try:
                self._zones[name] = ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                self._zones[name] = None
        return self._zones[name]

    @staticmethod
    def _instant(text: str) -> datetime | None:
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None

    def _flush(self) -> None:
        if self.key is None or not self.group:
            return
        resource, day = self.key
        self.stats.records[resource] += len(self.group)
        self.emit((resource, day, orjson.dumps(self.group), self.sources))
        self.group, self.sources, self.key = [], Counter(), None
