"""Strava's records of the sandbox person, in the live API v3 shapes (research: /work/research/strava.md).

The activities:
- one per workout of the shared tracker (`tracker.exercise`), with the same start and end instants the
  other fakes report: RUNNING → Run, WALKING → Walk, WEIGHTLIFTING → WeightTraining (no GPS,
  `trainer: true`, `workout_type: 30`); recorded by the watch the person trains with, whose heart rate
  is the tracker's own;
- on about one day in twenty a manual entry, a Yoga class or a Ride typed in afterwards
  (`manual: true`, `upload_id: null`, no device, no streams).

Streams hold one sample a second while the tracker had a heart rate (`tracker.heart_rate(world, day, 1)`
inside the activity; `time` counts seconds from the start, a gap where the tracker was off the wrist is a
gap in `time`). Runs and walks add a GPS loop (distance, latlng, altitude, velocity_smooth, cadence,
moving, grade_smooth), runs running power (`watts`, as Garmin watches send it, §4.2). Every summary figure
(distance, moving time, speeds, cadence, power, elevation, heart rate, laps, splits, zone buckets) is
computed from these streams, so they agree; `calories` is the tracker's kcal.

Uploads: a few minutes after the end, but about one in fifteen 2-5 days later (the watch synced late); a
manual entry is typed in within three hours of its end. Shapes: list items in §4.2's key order, fields
absent (never null) without data, `[]` latlng and `""` polyline without GPS, no `calories`; times per
§12 (`start_date_local` is wall-clock time with a `Z`, `utc_offset` the offset at the start, the bracket
of `timezone` the zone's standard offset); floats keep `.0`, a zero elevation gain is the integer `0`.
"""

import math
import threading
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from health_pipeline.sandbox import tracker
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld, rng_for

ACTIVITY_ID_BASE = 16_000_000_000  # ids: base + day ordinal * 10 + slot (0 the tracker's workout, 1 a manual entry)
UPLOAD_ID_BASE = 17_000_000_000
SPORTS = {"RUNNING": "Run", "WALKING": "Walk", "WEIGHTLIFTING": "WeightTraining"}
WORKOUT_TYPES = {"Run": 0, "Ride": 10, "WeightTraining": 30}  # absent for Walk and Yoga, as for Hike and Swim
LABELS = {"Run": "Run", "Walk": "Walk", "WeightTraining": "Weight Training", "Yoga": "Yoga", "Ride": "Ride"}
DEVICE = "Garmin Forerunner 265"
SHOE = {"id": "g17260533", "name": "ASICS Novablast 4", "base_m": 214_500}  # metres run before the window
LATE_UPLOADS = 1 / 15
MANUAL_DAYS = 1 / 20
# The person's heart-rate zones (max 190, split at 0.59/0.74/0.81/0.89 of it like §9's capture); pace zones in m/s
HR_ZONE_TOPS = (113, 141, 155, 169)
PACE_ZONE_TOPS = (2.6, 2.95, 3.2, 3.45, 3.75)
RELATIVE_EFFORT_PER_MINUTE = (0.2, 0.6, 1.2, 2.0, 3.0)
# Where GPS activities start: a park near home, or near the trip's hotel
PARKS = {"home": (52.514410, 13.350110, 34.0), "travel": (40.781200, -73.966500, 29.0)}
STATS_VISIBILITY = [{"type": kind, "visibility": "everyone"} for kind in ("heart_rate", "pace", "power", "speed", "calories")]


@dataclass(frozen=True)
class Activity:
    """One activity as the person's account holds it, before any edit."""

    id: int
    day: date  # the local day it was done on
    sport: str  # Run, Walk, WeightTraining, Yoga, Ride (`type` and `sport_type` alike)
    start: datetime  # UTC
    elapsed_s: int
    uploaded_at: datetime  # when it appears on Strava
    kcal: float
    manual: bool = False
    typed_distance_m: float = 0.0  # a manual ride's distance as typed in

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed_s)

    @property
    def gps(self) -> bool:
        return self.sport in ("Run", "Walk") and not self.manual

    @property
    def upload_id(self) -> int | None:
        return None if self.manual else UPLOAD_ID_BASE + self.id - ACTIVITY_ID_BASE


def activity_id(day: date, slot: int) -> int:
    return ACTIVITY_ID_BASE + day.toordinal() * 10 + slot


def day_of_id(activity_id: int) -> date | None:
    """The day an activity id was made for (None for ids this fake never made)."""
    ordinal = (activity_id - ACTIVITY_ID_BASE) // 10
    return date.fromordinal(ordinal) if 1 <= ordinal <= date.max.toordinal() else None


def athlete_id(world: SandboxWorld) -> int:
    return rng_for(world.seed, "strava", "athlete").randint(20_000_000, 99_999_999)


def iso(instant: datetime) -> str:
    """Strava's instants: UTC, whole seconds, `Z`."""
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def activities(world: SandboxWorld, day: date) -> list[Activity]:
    """The activities of a local day, uploaded or not (the tracker's workout once it has recorded it)."""
    found = []
    workout = tracker.exercise(world, day)
    if workout is not None:
        rng = rng_for(world.seed, "strava", "upload", day.isoformat())
        late = rng.random() < LATE_UPLOADS
        delay = timedelta(seconds=rng.randint(2 * 86_400, 5 * 86_400)) if late else timedelta(minutes=rng.randint(5, 15))
        found.append(Activity(activity_id(day, 0), day, SPORTS[workout.kind], workout.start,
                              int((workout.end - workout.start).total_seconds()), workout.end + delay, workout.kcal))
    typed = _manual_entry(world, day, workout)
    if typed is not None:
        found.append(typed)
    return found


def _manual_entry(world: SandboxWorld, day: date, workout: tracker.Exercise | None) -> Activity | None:
    rng = rng_for(world.seed, "strava", "manual", day.isoformat())
    if not world.has_day(day) or rng.random() >= MANUAL_DAYS:
        return None
    sport = "Yoga" if rng.random() < 0.6 else "Ride"
    # in the morning when the day's workout is in the afternoon, else late in the evening: never overlapping
    afternoon_workout = workout is not None and workout.start.astimezone(world.tz_for(day)).hour >= 12
    clock = (8 * 60 if afternoon_workout else 20 * 60 + 30) + rng.randint(0, 30)
    minutes = rng.randint(45, 70) if sport == "Yoga" else rng.randint(40, 90)
    start = (world.local_midnight(day) + timedelta(minutes=clock)).astimezone(timezone.utc)
    distance = 0.0 if sport == "Yoga" else round(minutes * rng.uniform(380, 450), -2)  # typed to 0.1 km
    kcal = round(minutes * (3.2 if sport == "Yoga" else 9.0), 1)
    return Activity(activity_id(day, 1), day, sport, start, minutes * 60,
                    start + timedelta(minutes=minutes + rng.randint(20, 180)), kcal, manual=True, typed_distance_m=distance)


# -- what the watch recorded -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Track:
    """An activity's streams (one sample a second) and the figures Strava derives from them."""

    streams: dict[str, list[Any]]
    figures: dict[str, Any]

    def __len__(self) -> int:
        return len(self.streams["time"])


_TRACKS: dict[tuple[Any, ...], Track] = {}
_TRACKS_LOCK = threading.Lock()


def track(world: SandboxWorld, activity: Activity) -> Track | None:
    """The activity's streams (None for a manual entry), built once per world and activity: a day of
    1-second heart rate takes a third of a second to draw."""
    if activity.manual:
        return None
    key = (world.seed, world.timezone, world.travel_timezone, world.implausible(activity.day), activity.id, activity.sport,
           activity.start)
    with _TRACKS_LOCK:
        found = _TRACKS.get(key)
    if found is None:
        found = _build_track(world, activity)
        with _TRACKS_LOCK:
            if len(_TRACKS) > 4096:
                _TRACKS.clear()
            _TRACKS[key] = found
    return found


def _beats(world: SandboxWorld, activity: Activity) -> list[tracker.Beat]:
    # The tracker draws a day's readings in order up to its clock: stopping it at the activity's end
    # draws the same readings, faster. Not on the day with the deliberate glitch, which depends on "today".
    source = world if world.implausible(activity.day) else replace(world, clock=SandboxClock(activity.end))
    return [b for b in tracker.heart_rate(source, activity.day, 1) if activity.start <= b.at < activity.end]


def _build_track(world: SandboxWorld, activity: Activity) -> Track:
    beats = _beats(world, activity)
    streams: dict[str, list[Any]] = {
        "time": [int((b.at - activity.start).total_seconds()) for b in beats] if beats else list(range(activity.elapsed_s))}
    if beats:
        streams["heartrate"] = [b.bpm for b in beats]
    if activity.gps:
        streams.update(_route(world, activity, streams["time"]))
    else:
        streams["distance"] = [0.0] * len(streams["time"])
    return Track(streams, _figures(activity, streams))


def _route(world: SandboxWorld, activity: Activity, time: list[int]) -> dict[str, list[Any]]:
    """A loop in the park, at the person's pace, with a few stops (moving: false)."""
    rng = rng_for(world.seed, "strava", "route", activity.id)
    n, run = len(time), activity.sport == "Run"
    pace = rng.uniform(2.75, 3.1) if run else rng.uniform(1.3, 1.45)
    paused = [False] * n
    for _ in range(rng.randint(1, 3) if n > 300 else 0):
        first = rng.randrange(60, n - 60)
        for i in range(first, min(n, first + rng.randint(10, 40))):
            paused[i] = True
    raw = [0.0 if paused[i] else max(0.4, pace + 0.2 * math.sin(time[i] / 150) + rng.gauss(0, 0.1)) for i in range(n)]
    velocity = [round(sum(raw[max(0, i - 4):i + 1]) / len(raw[max(0, i - 4):i + 1]), 3) for i in range(n)]
    metres = [0.0] * n
    for i in range(1, n):
        metres[i] = metres[i - 1] + raw[i]
    park = PARKS["travel" if world.travelling(activity.day) else "home"]
    lat0, lng0 = park[0] + rng.uniform(-0.003, 0.003), park[1] + rng.uniform(-0.003, 0.003)
    loop = max(metres[-1], 1.0) * 1.03  # the loop closes just after the finish
    radius = loop / (2 * math.pi)
    phase = rng.uniform(0, 2 * math.pi)
    latlng, altitude = [], []
    for d in metres:
        angle = 2 * math.pi * d / loop
        north, east = radius * (1 - math.cos(angle)), radius * math.sin(angle)
        latlng.append([round(lat0 + north / 111_320, 6), round(lng0 + east / (111_320 * math.cos(math.radians(lat0))), 6)])
        altitude.append(park[2] + 4 * math.sin(2 * angle + phase) + 1.5 * math.sin(5 * angle))
    grade = [round(100 * (altitude[i] - altitude[i - 10]) / (metres[i] - metres[i - 10]), 1)
             if i >= 10 and metres[i] - metres[i - 10] > 5 else 0.0 for i in range(n)]
    streams: dict[str, list[Any]] = {
        "distance": [round(d, 1) for d in metres], "latlng": latlng, "altitude": [round(a, 1) for a in altitude],
        "velocity_smooth": velocity, "grade_smooth": grade, "moving": [not p for p in paused],
        "cadence": [0 if paused[i] else int(round(rng.gauss(86 if run else 56, 1.5))) for i in range(n)],
    }
    if run:  # running power, roughly 1.04 W per kg and m/s
        weight = world.weight_kg(activity.day)
        streams["watts"] = [0 if paused[i] else max(0, int(round(1.04 * weight * raw[i] + rng.gauss(0, 10)))) for i in range(n)]
    return streams


def hr_zone(bpm: int) -> int:
    """The index of the activity heart-rate bucket a reading falls in (bounds inclusive)."""
    return sum(bpm > top for top in HR_ZONE_TOPS)


def pace_zone(speed: float) -> int:
    """The index of the pace bucket a speed (m/s) falls in."""
    return sum(speed >= top for top in PACE_ZONE_TOPS)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _figures(activity: Activity, streams: dict[str, list[Any]]) -> dict[str, Any]:
    """The summary figures Strava derives from the streams."""
    moving = streams.get("moving")
    hr = streams.get("heartrate", [])
    figures: dict[str, Any] = {
        "distance": streams["distance"][-1] if streams["distance"] else 0.0,
        "moving_time": sum(moving) if moving is not None else activity.elapsed_s,
        "hr": hr,
    }
    figures["average_speed"] = round(figures["distance"] / figures["moving_time"], 3) if figures["moving_time"] else 0.0
    figures["max_speed"] = max(streams.get("velocity_smooth") or [0.0])
    if moving is not None:
        figures["average_cadence"] = round(_mean([c for c, m in zip(streams["cadence"], moving) if m]), 1)
        altitude = streams["altitude"]
        figures["total_elevation_gain"] = round(sum(max(0.0, b - a) for a, b in zip(altitude, altitude[1:])), 1)
        figures["elev_high"], figures["elev_low"] = max(altitude), min(altitude)
        points = streams["latlng"]
        figures["start_latlng"], figures["end_latlng"] = points[0], points[-1]
        figures["polyline"] = encode_polyline(points)
        figures["summary_polyline"] = encode_polyline(points[::15] + [points[-1]])
    if "watts" in streams and moving is not None:
        watts = [w for w, m in zip(streams["watts"], moving) if m]
        figures["average_watts"] = round(_mean(watts), 1)
        figures["max_watts"] = max(watts)
        figures["weighted_average_watts"] = int(round(_mean([w ** 4 for w in watts]) ** 0.25))
        figures["kilojoules"] = round(figures["average_watts"] * figures["moving_time"] / 1000, 1)
    if hr:
        figures["average_heartrate"] = round(_mean(hr), 1)
        figures["max_heartrate"] = float(max(hr))
        figures["suffer_score"] = float(round(sum(RELATIVE_EFFORT_PER_MINUTE[hr_zone(b)] for b in hr) / 60))
    return figures


def encode_polyline(points: list[list[float]]) -> str:
    """Google's encoded polyline (precision 5), as Strava's `map` carries it."""
    out: list[str] = []
    previous = (0, 0)
    for lat, lng in points:
        current = (round(lat * 1e5), round(lng * 1e5))
        for delta in (current[0] - previous[0], current[1] - previous[1]):
            value = ~(delta << 1) if delta < 0 else delta << 1
            while value >= 0x20:
                out.append(chr((0x20 | (value & 0x1F)) + 63))
                value >>= 5
            out.append(chr(value + 63))
        previous = current
    return "".join(out)


# -- the shapes ------------------------------------------------------------------------------------------


def _local(world: SandboxWorld, instant: datetime) -> datetime:
    return instant.astimezone(world.tz_at(instant))


def zone_label(world: SandboxWorld, instant: datetime) -> str:
    """`(GMT+01:00) Europe/Berlin`: the zone's standard offset, whatever the season (§12)."""
    local = _local(world, instant)
    standard = (local.utcoffset() or timedelta(0)) - (local.dst() or timedelta(0))
    minutes = int(standard.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"(GMT{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}) {world.tz_at(instant).key}"


def default_name(world: SandboxWorld, activity: Activity) -> str:
    """Strava's automatic title: the time of day, then the sport."""
    hour = _local(world, activity.start).hour
    part = ("Night" if hour < 5 else "Morning" if hour < 11 else "Lunch" if hour < 13 else "Afternoon" if hour < 17
            else "Evening" if hour < 21 else "Night")
    return f"{part} {LABELS[activity.sport]}"


def summary(world: SandboxWorld, activity: Activity, device_in_list: bool = True) -> dict[str, Any]:
    """The SummaryActivity of `/athlete/activities` (resource_state 2)."""
    recorded = track(world, activity)
    figures = recorded.figures if recorded is not None else {}
    local = _local(world, activity.start)
    social = rng_for(world.seed, "strava", "social", activity.id)
    distance = figures.get("distance", activity.typed_distance_m)
    moving_time = figures.get("moving_time", activity.elapsed_s)
    gain = figures.get("total_elevation_gain", 0)
    item: dict[str, Any] = {
        "resource_state": 2, "athlete": {"id": athlete_id(world), "resource_state": 1},
        "name": default_name(world, activity), "distance": float(distance), "moving_time": moving_time,
        "elapsed_time": activity.elapsed_s, "total_elevation_gain": gain if gain else 0,
        "type": activity.sport, "sport_type": activity.sport,
    }
    if activity.sport in WORKOUT_TYPES:
        item["workout_type"] = WORKOUT_TYPES[activity.sport]
    if device_in_list and not activity.manual:
        item["device_name"] = DEVICE
    item |= {
        "id": activity.id, "start_date": iso(activity.start), "start_date_local": local.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timezone": zone_label(world, activity.start), "utc_offset": (local.utcoffset() or timedelta(0)).total_seconds(),
        "location_city": None, "location_state": None, "location_country": None,
        "achievement_count": 0, "kudos_count": 0 if activity.manual else social.randint(0, 6), "comment_count": 0,
        "athlete_count": 1, "photo_count": 0,
        "map": {"id": f"a{activity.id}", "summary_polyline": figures.get("summary_polyline", ""), "resource_state": 2},
        "trainer": activity.sport == "WeightTraining", "commute": False, "manual": activity.manual, "private": False,
        "visibility": "everyone", "flagged": False, "gear_id": SHOE["id"] if activity.sport == "Run" else None,
        "start_latlng": figures.get("start_latlng", []), "end_latlng": figures.get("end_latlng", []),
        "average_speed": figures.get("average_speed", round(distance / moving_time, 3) if moving_time else 0.0),
        "max_speed": figures.get("max_speed", 0),  # a manual entry says the integer 0
    }
    if "average_cadence" in figures:
        item["average_cadence"] = figures["average_cadence"]
    if "average_watts" in figures:
        item |= {key: figures[key] for key in ("average_watts", "max_watts", "weighted_average_watts")}
        item |= {"device_watts": True, "kilojoules": figures["kilojoules"]}
    has_hr = bool(figures.get("hr"))
    item["has_heartrate"] = has_hr
    if has_hr:
        item |= {"average_heartrate": figures["average_heartrate"], "max_heartrate": figures["max_heartrate"]}
    item |= {"heartrate_opt_out": False, "display_hide_heartrate_option": has_hr}
    if "elev_high" in figures:
        item |= {"elev_high": figures["elev_high"], "elev_low": figures["elev_low"]}
    item["upload_id"] = activity.upload_id
    if activity.upload_id is not None:
        item["upload_id_str"] = str(activity.upload_id)
    item |= {"external_id": None if activity.manual else f"garmin_ping_{490_000_000_000 + activity.id - ACTIVITY_ID_BASE}",
             "from_accepted_tag": False, "pr_count": 0, "total_photo_count": 0, "has_kudoed": False}
    if has_hr:
        item["suffer_score"] = figures["suffer_score"]
    return item


def detail(world: SandboxWorld, activity: Activity, device_in_list: bool = True, shoe_distance_m: int = 0,
           edits: dict[str, Any] | None = None) -> dict[str, Any]:
    """The DetailedActivity of `/activities/{id}` (resource_state 3): the list keys, then the detail's."""
    item = summary(world, activity, device_in_list) | (edits or {})
    recorded = track(world, activity)
    figures = recorded.figures if recorded is not None else {}
    item["resource_state"] = 3
    item["map"] = {"id": f"a{activity.id}", "polyline": figures.get("polyline", ""), "resource_state": 3,
                   "summary_polyline": figures.get("summary_polyline", "")}
    item |= {"description": None, "calories": float(activity.kcal), "perceived_exertion": None,
             "prefer_perceived_exertion": False, "segment_efforts": []}
    if activity.gps and recorded is not None:
        item["splits_metric"] = splits(recorded, 1000.0)
        item["splits_standard"] = splits(recorded, 1609.34)
    item["laps"] = laps(world, activity, item.get("visibility", "everyone"))
    if activity.sport == "Run":
        item["best_efforts"] = []
    if item.get("gear_id") == SHOE["id"]:
        item["gear"] = gear(shoe_distance_m)
    item |= {"photos": {"primary": None, "count": 0}, "stats_visibility": STATS_VISIBILITY, "hide_from_home": False}
    if not device_in_list and not activity.manual:
        item["device_name"] = DEVICE
    item["embed_token"] = f"{rng_for(world.seed, 'strava', 'embed', activity.id).getrandbits(160):040x}"
    item["available_zones"] = available_zones(world, activity)
    return item


def gear(distance_m: int) -> dict[str, Any]:
    return {"id": SHOE["id"], "primary": True, "name": SHOE["name"], "nickname": None, "resource_state": 2,
            "retired": False, "distance": distance_m, "converted_distance": round(distance_m / 1000, 1)}


def available_zones(world: SandboxWorld, activity: Activity) -> list[str]:
    recorded = track(world, activity)
    if recorded is None:
        return []
    return (["heartrate"] if "heartrate" in recorded.streams else []) + (["pace"] if activity.sport == "Run" else [])


def _stretches(recorded: Track, every_m: float) -> list[tuple[int, int]]:
    """Contiguous sample ranges (first, last) of `every_m` metres each, the last one shorter."""
    found, first, mark = [], 0, every_m
    for i, metres in enumerate(recorded.streams["distance"]):
        if metres >= mark:
            found.append((first, i))
            first, mark = i + 1, mark + every_m
    if first < len(recorded):
        found.append((first, len(recorded) - 1))
    return found


def _stretch(recorded: Track, first: int, last: int) -> dict[str, Any]:
    """What samples `first`..`last` add up to: a lap's or a split's figures."""
    s = {name: values[first:last + 1] for name, values in recorded.streams.items()}
    before = first - 1  # the sample a stretch is measured from (the activity's start for the first)
    since = {name: recorded.streams[name][max(before, 0)] for name in ("distance", "altitude") if name in s}
    moving = s.get("moving")
    figures: dict[str, Any] = {
        "distance": s["distance"][-1] - (since["distance"] if before >= 0 else 0.0),
        "elapsed_time": s["time"][-1] - s["time"][0] + 1,
        "moving_time": sum(moving) if moving is not None else s["time"][-1] - s["time"][0] + 1,
    }
    figures["average_speed"] = figures["distance"] / figures["moving_time"] if figures["moving_time"] else 0.0
    if moving is not None:
        altitude = [since["altitude"], *s["altitude"]]
        figures["elevation_difference"] = altitude[-1] - altitude[0]
        figures["gain"] = round(sum(max(0.0, b - a) for a, b in zip(altitude, altitude[1:])), 1)
        figures["max_speed"] = max(s["velocity_smooth"])
        figures["average_cadence"] = round(_mean([c for c, m in zip(s["cadence"], moving) if m]), 1)
        if "watts" in s:
            figures["average_watts"] = round(_mean([w for w, m in zip(s["watts"], moving) if m]), 1)
    if "heartrate" in s:
        figures["hr"] = s["heartrate"]
    return figures


def splits(recorded: Track, every_m: float) -> list[dict[str, Any]]:
    """`splits_metric` (1 km) or `splits_standard` (1 mile)."""
    found = []
    for number, (first, last) in enumerate(_stretches(recorded, every_m), start=1):
        f = _stretch(recorded, first, last)
        grade = f["elevation_difference"] / f["distance"] if f["distance"] else 0.0
        split: dict[str, Any] = {
            "distance": round(f["distance"], 1), "elapsed_time": f["elapsed_time"],
            "elevation_difference": round(f["elevation_difference"], 1), "moving_time": f["moving_time"], "split": number,
            "average_speed": round(f["average_speed"], 2),
            "average_grade_adjusted_speed": round(f["average_speed"] * (1 + 3.3 * grade), 2)}
        if f.get("hr"):
            split["average_heartrate"] = _mean(f["hr"])
        split["pace_zone"] = pace_zone(f["average_speed"]) + 1
        found.append(split)
    return found


def laps(world: SandboxWorld, activity: Activity, visibility: str = "everyone") -> list[dict[str, Any]]:
    """`/activities/{id}/laps`: runs auto-lap every kilometre, other recorded activities are one lap; a
    manual entry has none."""
    recorded = track(world, activity)
    if recorded is None:
        return []
    whole = summary(world, activity)
    stretches = _stretches(recorded, 1000.0) if activity.sport == "Run" else [(0, len(recorded) - 1)]
    found = []
    for index, (first, last) in enumerate(stretches, start=1):
        f = _stretch(recorded, first, last)
        if len(stretches) == 1:  # one lap is the whole activity
            f |= {"elapsed_time": activity.elapsed_s, "moving_time": whole["moving_time"], "distance": whole["distance"]}
        began = activity.start + timedelta(seconds=recorded.streams["time"][first])
        lap: dict[str, Any] = {
            "id": activity.id * 100 + index, "resource_state": 2, "name": f"Lap {index}",
            "activity": {"id": activity.id, "visibility": visibility, "resource_state": 1},
            "athlete": {"id": athlete_id(world), "resource_state": 1},
            "elapsed_time": f["elapsed_time"], "moving_time": f["moving_time"], "start_date": iso(began),
            "start_date_local": _local(world, began).strftime("%Y-%m-%dT%H:%M:%SZ"), "distance": round(f["distance"], 2),
            "average_speed": round(f["distance"] / f["moving_time"], 3) if f["moving_time"] else 0.0,
            "max_speed": f.get("max_speed", 0.0), "lap_index": index, "split": index, "start_index": first, "end_index": last,
            "total_elevation_gain": f.get("gain") or 0,
        }
        if "average_cadence" in f:
            lap["average_cadence"] = f["average_cadence"]
        lap["device_watts"] = "average_watts" in f
        if "average_watts" in f:
            lap["average_watts"] = f["average_watts"]
        if f.get("hr"):
            lap |= {"average_heartrate": round(_mean(f["hr"]), 1), "max_heartrate": float(max(f["hr"]))}
        if activity.sport == "Run":
            lap["pace_zone"] = pace_zone(lap["average_speed"]) + 1
        found.append(lap)
    return found


def zones(world: SandboxWorld, activity: Activity) -> list[dict[str, Any]]:
    """`/activities/{id}/zones`: heart-rate buckets (min = the previous max + 1, float seconds), and pace
    buckets for runs (max before min, integer seconds), as §7's capture shows them."""
    recorded = track(world, activity)
    found: list[dict[str, Any]] = []
    if recorded is None:
        return found
    kinds = available_zones(world, activity)
    if "heartrate" in kinds:
        hr = recorded.streams["heartrate"]
        seconds = [0] * (len(HR_ZONE_TOPS) + 1)
        for bpm in hr:
            seconds[hr_zone(bpm)] += 1
        bounds = [0, *(top + 1 for top in HR_ZONE_TOPS)]
        tops = [*HR_ZONE_TOPS, -1]
        found.append({
            "score": recorded.figures["suffer_score"],
            "distribution_buckets": [{"min": low, "max": high, "time": float(t)} for low, high, t in zip(bounds, tops, seconds)],
            "type": "heartrate", "resource_state": 3, "sensor_based": True,
            "points": sum(seconds[1:]) // 60,  # Strava's meaning is unknown; the fake counts minutes above zone 1
            "custom_zones": False})
    if "pace" in kinds:
        buckets = [0] * (len(PACE_ZONE_TOPS) + 1)
        for speed, moving in zip(recorded.streams["velocity_smooth"], recorded.streams["moving"]):
            if moving:
                buckets[pace_zone(speed)] += 1
        lows = [0, *PACE_ZONE_TOPS]
        highs = [*PACE_ZONE_TOPS, -1]
        found.append({
            "score": round(sum(i * t for i, t in enumerate(buckets)) / 600),
            "distribution_buckets": [{"max": high, "min": low, "time": t} for low, high, t in zip(lows, highs, buckets)],
            "type": "pace", "resource_state": 3, "sensor_based": True})
    return found


STREAM_KEYS = ("time", "distance", "latlng", "altitude", "velocity_smooth", "heartrate", "cadence", "watts", "temp",
               "moving", "grade_smooth")


def streams(recorded: Track, keys: list[str], key_by_type: bool = True) -> dict[str, Any] | list[dict[str, Any]]:
    """The streams asked for that the activity has, and always `distance`, the series they are indexed by:
    `distance` first, the rest in alphabetical order (§8's capture answered distance, altitude, latlng)."""
    wanted = sorted({k for k in keys if k in recorded.streams and k != "distance"})
    names = ["distance", *wanted]
    if key_by_type:
        return {name: {"data": recorded.streams[name], "series_type": "distance", "original_size": len(recorded),
                       "resolution": "high"} for name in names}
    return [{"type": name, "data": recorded.streams[name], "series_type": "distance", "original_size": len(recorded),
             "resolution": "high"} for name in names]


def athlete(world: SandboxWorld, detailed: bool, shoe_distance_m: int, updated_at: datetime | None) -> dict[str, Any]:
    """The DetailedAthlete of `/athlete` (resource_state 3), or the SummaryAthlete a code exchange carries (2)."""
    number = athlete_id(world)
    created = datetime(2019, 4, 2, 17, 25, 11, tzinfo=timezone.utc)
    picture = f"https://dgalywyr863hv.cloudfront.net/pictures/athletes/{number}/{number % 9_000_000 + 1_000_000}/2"
    person: dict[str, Any] = {
        "id": number, "username": "sandbox_person", "resource_state": 3 if detailed else 2,
        "firstname": "Sandbox", "lastname": "Person", "bio": "" if detailed else None,
        "city": "Berlin", "state": "Berlin", "country": "Germany", "sex": "M", "premium": True, "summit": True,
        "created_at": iso(created), "updated_at": iso(updated_at or created), "badge_type_id": 1,
        "weight": round(world.weight_kg(world.today()), 1),
        "profile_medium": f"{picture}/medium.jpg", "profile": f"{picture}/large.jpg", "friend": None, "follower": None,
    }
    if detailed:
        person |= {"blocked": False, "can_follow": True, "follower_count": 14, "friend_count": 17, "mutual_friend_count": 0,
                   "athlete_type": 1, "date_preference": "%m/%d/%Y", "measurement_preference": "meters", "clubs": [],
                   "postable_clubs_count": 0, "ftp": None, "bikes": [],
                   "shoes": [gear(shoe_distance_m)]}
    return person


def athlete_zones() -> dict[str, Any]:
    """`/athlete/zones`: heart rate only (no `power` key without power zones); zone n+1's min is zone n's max."""
    bounds = [0, *HR_ZONE_TOPS]
    return {"heart_rate": {"custom_zones": False,
                           "zones": [{"min": low, "max": high} for low, high in zip(bounds, [*HR_ZONE_TOPS, -1])]}}
