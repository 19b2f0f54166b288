"""A small FIT writer for the sandbox's Garmin exports: the few messages a watch writes into its activity
and monitoring files (file_id, monitoring_info, monitoring, record, session, activity), fixed definitions,
little-endian, CRCs computed by fitdecode.

Why not a library: the one well-kept encoder on PyPI, fit-tool (0.9.16, BSD-3, a community fork), wrote
one day's monitoring file (1,440 messages) in 0.68 s here; a ten-year export for the benchmark has
3,650 of them (41 minutes of writing); this writer takes about 6 ms a day. garmin-fit-sdk's encoder is
under the FIT Protocol License, not an OSI licence. This is test tooling only: the importer reads every
file with fitdecode, and the tests decode this writer's files with it, so a wrong byte here fails there.
"""

import struct
from dataclasses import dataclass
from datetime import datetime, timezone

from fitdecode.utils import compute_crc

FIT_EPOCH_S = 631_065_600  # 1989-12-31T00:00:00Z in Unix seconds
PROFILE_VERSION = 2132

# FIT base types (FIT protocol, "Base Types")
ENUM, UINT8, UINT16, UINT32, UINT32Z = 0x00, 0x02, 0x84, 0x86, 0x8C

FILE_ACTIVITY, FILE_MONITORING_B = 4, 32
MANUFACTURER_GARMIN, PRODUCT = 1, 3113  # a Forerunner-class product number; only shown, never read


@dataclass(frozen=True)
class _Message:
    """A message as written: its global number and (field number, base type, struct code) per field."""

    local: int
    number: int
    fields: tuple[tuple[int, int, str], ...]

    @property
    def definition(self) -> bytes:
        body = struct.pack("<BBHB", 0, 0, self.number, len(self.fields))
        body += b"".join(struct.pack("<BBB", num, struct.calcsize("<" + code), base) for num, base, code in self.fields)
        return bytes([0x40 | self.local]) + body

    @property
    def pack(self) -> struct.Struct:
        return struct.Struct("<B" + "".join(code for _, _, code in self.fields))


FILE_ID = _Message(0, 0, ((0, ENUM, "B"), (1, UINT16, "H"), (2, UINT16, "H"), (3, UINT32Z, "I"), (4, UINT32, "I")))
MONITORING_INFO = _Message(1, 103, ((253, UINT32, "I"), (0, UINT32, "I")))  # timestamp, local_timestamp
MONITORING_FULL = _Message(2, 55, ((253, UINT32, "I"), (27, UINT8, "B")))  # timestamp, heart_rate
MONITORING_16 = _Message(3, 55, ((26, UINT16, "H"), (27, UINT8, "B")))  # timestamp_16, heart_rate
RECORD = _Message(4, 20, ((253, UINT32, "I"), (3, UINT8, "B"), (5, UINT32, "I")))  # timestamp, heart_rate, distance
# timestamp, start_time, sport, total_elapsed_time, total_timer_time, total_distance, avg_heart_rate
SESSION = _Message(5, 18, ((253, UINT32, "I"), (2, UINT32, "I"), (5, ENUM, "B"), (7, UINT32, "I"), (8, UINT32, "I"),
                           (9, UINT32, "I"), (16, UINT8, "B")))
# timestamp, total_timer_time, num_sessions, type, event, event_type, local_timestamp
ACTIVITY = _Message(6, 34, ((253, UINT32, "I"), (0, UINT32, "I"), (1, UINT16, "H"), (2, ENUM, "B"), (3, ENUM, "B"),
                            (4, ENUM, "B"), (5, UINT32, "I")))

SPORTS = {"running": 1, "cycling": 2, "walking": 11, "strength_training": 10}  # FIT `sport` (10: training)


def fit_seconds(instant: datetime) -> int:
    """An instant as FIT time: seconds since 1989-12-31T00:00:00Z."""
    return int(instant.astimezone(timezone.utc).timestamp()) - FIT_EPOCH_S


class FitFile:
    """One FIT file being written: definitions are written before a message's first record."""

    def __init__(self) -> None:
        self.body = bytearray()
        self.defined: set[int] = set()

    def add(self, message: _Message, *values: int) -> None:
        if message.local not in self.defined:
            self.body += message.definition
            self.defined.add(message.local)
        self.body += message.pack.pack(message.local, *values)

    def bytes(self) -> bytes:
        header = struct.pack("<BBHI4s", 14, 0x20, PROFILE_VERSION, len(self.body), b".FIT")
        header += struct.pack("<H", compute_crc(header))
        data = header + bytes(self.body)
        return data + struct.pack("<H", compute_crc(data))


def monitoring_file(created: datetime, utc_offset_s: int, samples: list[tuple[datetime, int]],
                    serial: int, full_every: int = 60) -> bytes:
    """A monitoring_b file: the day's heart rate, a full timestamp every `full_every` samples and
    `timestamp_16` (the low 16 bits of FIT time) in between, as Garmin watches write it."""
    fit = FitFile()
    start = fit_seconds(created)
    fit.add(FILE_ID, FILE_MONITORING_B, MANUFACTURER_GARMIN, PRODUCT, serial, start)
    fit.add(MONITORING_INFO, start, start + utc_offset_s)
    for i, (at, bpm) in enumerate(samples):
        t = fit_seconds(at)
        if i % full_every == 0:
            fit.add(MONITORING_FULL, t, bpm)
        else:
            fit.add(MONITORING_16, t & 0xFFFF, bpm)
    return fit.bytes()


def activity_file(start: datetime, end: datetime, utc_offset_s: int, sport: str, samples: list[tuple[datetime, int]],
                  distance_m: float, serial: int) -> bytes:
    """An activity file: records with heart rate (and distance, spread evenly), one session, the activity."""
    fit = FitFile()
    first, last = fit_seconds(start), fit_seconds(end)
    elapsed_ms = (last - first) * 1000
    fit.add(FILE_ID, FILE_ACTIVITY, MANUFACTURER_GARMIN, PRODUCT, serial, first)
    span = max(1, last - first)
    for at, bpm in samples:
        t = fit_seconds(at)
        fit.add(RECORD, t, bpm, int(round(distance_m * 100 * (t - first) / span)))
    mean = round(sum(bpm for _, bpm in samples) / len(samples)) if samples else 0xFF
    fit.add(SESSION, last, first, SPORTS.get(sport, 0), elapsed_ms, elapsed_ms, int(round(distance_m * 100)), mean)
    fit.add(ACTIVITY, last, elapsed_ms, 1, 0, 26, 1, last + utc_offset_s)  # manual; activity; stop
    return fit.bytes()
