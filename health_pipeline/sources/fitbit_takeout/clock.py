"""Which clock the export's intraday JSON is on, detected (fitbit-takeout.md §3.3): the legacy export
writes heart rate, steps and exercise in UTC and sleep on the local wall clock, newer exports are
unverified. Two ways, best first:

1. Google's CSV re-export of heart rate (UTC, `Z`) overlaps the JSON: the reading of the JSON's
   timestamps (as UTC, or as local time in the configured zone) that lands on the CSV's instants wins.
2. Sleep: a night's heart rate is its lowest. For each main sleep (local wall clock), the shift of the
   sleep window that gives the lowest mean JSON heart rate is 0 if the JSON is local, and minus that
   night's UTC offset if it is UTC, which is then that night's offset (trips and DST included).

Without either, UTC is assumed (what every verified export shows) and the run's metadata says so.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

STEP_S = 15 * 60  # UTC offsets are whole quarter hours
DAY_S = 86_400
SNAP_S = 3600
TIE_BPM = 6.0  # two windows this close in mean heart rate are both nights (resting heart rate varies ~8 bpm a day)
SHIFTS = np.arange(-14 * 3600, 14 * 3600 + 1, STEP_S)


@dataclass
class ClockDecision:
    """The intraday JSON's clock, how it was decided, and each night's UTC offset found on the way."""

    intraday: str = "utc"  # "utc" or "local"
    method: str = "assumed"  # "google_csv", "sleep" or "assumed"
    evidence: dict[str, object] = field(default_factory=dict)
    night_offsets: dict[str, int] = field(default_factory=dict)  # sleep logId -> UTC offset (s) at its start
    day_offsets: dict[date, int] = field(default_factory=dict)  # local day -> UTC offset (s) lived that day

    def as_metadata(self) -> dict[str, object]:
        return {"intraday_clock": self.intraday, "decided_by": self.method, **self.evidence,
                "nights_with_an_offset": len(self.night_offsets)}


def us_seconds(text: list[str]) -> np.ndarray | None:
    """`MM/DD/YY HH:MM:SS` timestamps as seconds since 1970 of that wall clock, parsed as fixed-width
    digits (a million a second); None when any is not exactly that shape (then `naive_seconds`)."""
    try:
        raw = np.array(text, dtype="S17")
    except (UnicodeEncodeError, ValueError):
        return None
    if not len(raw):
        return np.zeros(0, "int64")
    b = raw.view(np.uint8).reshape(len(raw), 17).astype("int64")
    shape_ok = ((b[:, 2] == 47) & (b[:, 5] == 47) & (b[:, 8] == 32) & (b[:, 11] == 58) & (b[:, 14] == 58)).all()
    digits = b[:, [0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16]] - 48
    if not shape_ok or (digits < 0).any() or (digits > 9).any() or (np.char.str_len(raw) != 17).any():
        return None
    month, day, yy = digits[:, 0] * 10 + digits[:, 1], digits[:, 2] * 10 + digits[:, 3], digits[:, 4] * 10 + digits[:, 5]
    hours, minutes, seconds = (digits[:, 6] * 10 + digits[:, 7], digits[:, 8] * 10 + digits[:, 9],
                               digits[:, 10] * 10 + digits[:, 11])
    if ((month < 1) | (month > 12) | (day < 1) | (day > 31) | (hours > 23) | (minutes > 59) | (seconds > 59)).any():
        return None
    year = np.where(yy < 69, 2000 + yy, 1900 + yy)  # Python's %y
    first = ((year - 1970) * 12 + month - 1).astype("datetime64[M]").astype("datetime64[D]").astype("int64")
    return (first + day - 1) * 86_400 + hours * 3600 + minutes * 60 + seconds


def naive_seconds(text: list[str], fmt: str) -> np.ndarray:
    """Timestamps (written without a zone) as seconds since 1970 of that wall clock (-1 where unreadable)."""
    import pandas as pd  # 0.4 s to import, for the formats the fast path does not read: not on every start

    if fmt == "%m/%d/%y %H:%M:%S":
        fast = us_seconds(text)
        if fast is not None:
            return fast

    return pd.to_datetime(pd.Series(text, dtype="string"), format=fmt, errors="coerce").to_numpy(
        dtype="datetime64[s]").astype("int64")


def zone_days(utc: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """Each UTC instant's day (days since 1970) on the configured zone's calendar, DST included: the
    day a record without an offset of its own is dated on, whatever the nights around it suggest."""
    if not len(utc):
        return utc // DAY_S
    buckets, at = np.unique(utc // STEP_S, return_inverse=True)  # offsets change on quarter hours at most
    offsets = np.array([int((datetime.fromtimestamp(int(b) * STEP_S, timezone.utc).astimezone(zone).utcoffset()
                             or timedelta(0)).total_seconds()) for b in buckets], dtype="int64")
    return (utc + offsets[at.reshape(-1)]) // DAY_S


def offset_at(zone: ZoneInfo, local_seconds: int) -> int:
    """The zone's UTC offset at a wall-clock time (seconds)."""
    moment = datetime(1970, 1, 1) + timedelta(seconds=int(local_seconds))
    return int((moment.replace(tzinfo=zone).utcoffset() or timedelta(0)).total_seconds())


def by_google_csv(json_times: np.ndarray, json_bpm: np.ndarray, csv_instants: np.ndarray, csv_bpm: np.ndarray,
                  zone: ZoneInfo) -> ClockDecision | None:
    """Method 1: how many JSON samples, their timestamps read as UTC or as local time, are samples of Google's
    CSV (same instant, same bpm): a regular series lands on the CSV's instants either way, its values do not."""
    if not len(json_times) or not len(csv_instants):
        return None
    order = np.argsort(csv_instants, kind="stable")
    known, values = csv_instants[order], csv_bpm[order]

    def matches(instants: np.ndarray) -> int:
        at = np.clip(np.searchsorted(known, instants), 0, len(known) - 1)
        return int(((known[at] == instants) & (values[at] == json_bpm)).sum())

    offsets = np.array([offset_at(zone, t) for t in json_times[:: max(1, len(json_times) // 500)]])
    as_utc, as_local = matches(json_times), matches(json_times - int(np.median(offsets)))
    if as_utc == as_local:
        return None
    return ClockDecision("utc" if as_utc > as_local else "local", "google_csv",
                         {"samples_matching_as_utc": as_utc, "samples_matching_as_local": as_local})


def by_sleep(nights: Mapping[str, tuple[int, int]], times: np.ndarray, bpm: np.ndarray, zone: ZoneInfo) -> ClockDecision:
    """Method 2: per main sleep (logId -> local wall-clock start, end), the window shift with the lowest
    mean heart rate. `times` (the JSON's timestamps as written, sorted) and `bpm` are the samples."""
    order = np.argsort(times, kind="stable")
    times, bpm = times[order], bpm[order].astype("float64")
    cumulative = np.concatenate([[0.0], np.cumsum(bpm)])
    spacing = max(1.0, _spacing(times))
    votes = {"utc": 0, "local": 0}
    found: dict[str, int] = {}
    for log_id, (start, end) in nights.items():
        lo = np.searchsorted(times, start + SHIFTS)
        hi = np.searchsorted(times, end + SHIFTS)
        counts = hi - lo
        enough = counts >= max(10, 0.9 * (end - start) / spacing)  # the window (nearly) covered: no partial night
        if not enough.any():
            continue
        means = np.where(enough, (cumulative[hi] - cumulative[lo]) / np.maximum(counts, 1), np.inf)
        home = offset_at(zone, start)
        # Far from UTC, a shift of about a day minus the offset lays the window on the next (or last) night,
        # which may be lower still: of the valleys (each a night) about as low as the lowest, the one
        # nearest the configured zone's offset. (A window half on the night is on a valley's side, not one.)
        padded = np.concatenate([[np.inf], means, [np.inf]])
        valleys = np.flatnonzero((means <= padded[:-2]) & (means <= padded[2:]) & (means <= means.min() + TIE_BPM))
        best = int(SHIFTS[valleys[np.argmin(np.abs(SHIFTS[valleys] + home))]])
        if best == 0 and home != 0:
            votes["local"] += 1
        elif best != 0:
            votes["utc"] += 1
            # Within an hour of the configured zone's offset: that offset (a heart-rate minimum is not a
            # clock; the zone knows DST). Further off: a trip, and the offset found is that night's.
            found[log_id] = home if abs(-best - home) <= SNAP_S else -best
    evidence: dict[str, object] = {"nights_pointing_to_utc": votes["utc"], "nights_pointing_to_local": votes["local"]}
    if not votes["utc"] and not votes["local"]:
        return ClockDecision("utc", "assumed", evidence)
    if votes["utc"] >= votes["local"]:
        return ClockDecision("utc", "sleep", evidence, found)
    return ClockDecision("local", "sleep", evidence)


def _spacing(times: np.ndarray) -> float:
    """The median spacing of the samples (s)."""
    if len(times) < 2:
        return 60.0
    return float(np.median(np.diff(times[: min(len(times), 5000)]))) or 60.0
