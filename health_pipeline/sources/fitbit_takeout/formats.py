"""What a Fitbit export holds and how it is written (../shared/reference/fitbit-takeout.md), shared by
the reader and the sandbox's archive writer: the four layouts, the file families and their names,
the date formats.

Layouts (detected by path, never assumed):
  A  legacy fitbit.com export    `<Name>/user-site-export/<family>-YYYY-MM-DD.json`
  B  fitbit.com account archive  `<Name>/Physical Activity/…`, `<Name>/Sleep/…`, `<Name>/Personal & Account/…`
  C  Google Takeout "Fitbit"     `Takeout/Fitbit/Global Export Data/…` and category folders
  D  Google Takeout "Google Health" (2026)  `Takeout/Google Health/…` (the space may be U+00A0)
"""

import re
from dataclasses import dataclass
from typing import Literal

Layout = Literal["A", "B", "C", "D"]
LAYOUT_NAMES: dict[str, str] = {
    "A": "fitbit.com data export (user-site-export)",
    "B": "fitbit.com account archive",
    "C": "Google Takeout, Fitbit",
    "D": "Google Takeout, Google Health",
}

JSON_TIME = "%m/%d/%y %H:%M:%S"  # `05/18/15 05:25:25`: intraday and daily series, exercise (legacy)
JSON_DAY = "%m/%d/%y"  # resting heart rate's and weight's `date`
SLEEP_TIME = "%Y-%m-%dT%H:%M:%S.000"  # sleep start/end/levels: local wall clock, no zone

# Families of `Global Export Data` / `user-site-export` JSON, by how their rows are kept in the raw store.
MINUTE_SERIES = ("heart_rate", "steps", "distance", "calories", "altitude")  # instants; clock detected
DAILY_SERIES = ("very_active_minutes", "moderately_active_minutes", "lightly_active_minutes", "sedentary_minutes",
                "resting_heart_rate", "time_in_heart_rate_zones")  # one row per local day, `MM/DD/YY 00:00:00`
ITEMS = {"sleep": "logId", "weight": "logId", "exercise": "logId"}  # one record per item, by its id

# CSV families (one row per day) of the category folders: file-name prefix -> family.
DAILY_CSV = {
    "Daily Heart Rate Variability Summary": "daily_hrv",
    "Daily SpO2": "daily_spo2",
    "Daily Respiratory Rate Summary": "daily_respiratory_rate",
    "Computed Temperature": "computed_temperature",
}
GOOGLE_HEART_RATE = "google_heart_rate"  # `Physical Activity_GoogleData/heart_rate_YYYY-MM-DD.csv`, UTC

# Google's CSV re-export (`Physical Activity_GoogleData/`, in 2024 `TIMESERIES_GoogleData/`): one row per
# reading, `timestamp` an ISO instant with `Z` (sometimes microseconds), a trailing `data source` column
# in newer exports. `<family>_YYYY-MM-DD.csv` (a UTC day or month) or `<family>.csv` (one file). File
# family -> (resource, the value columns read by header name, never by position).
GOOGLE_CSV: dict[str, tuple[str, tuple[str, ...]]] = {
    "heart_rate": (GOOGLE_HEART_RATE, ("beats per minute",)),
    "steps": ("google_steps", ("steps",)),
    "distance": ("google_distance", ("distance",)),  # metres
    "calories": ("google_calories", ("calories",)),  # kcal
    "floors": ("google_floors", ("floors",)),
    "altitude": ("google_altitude", ("gain",)),  # millimetres climbed
    "active_minutes": ("google_active_minutes", ("light", "moderate", "very")),  # minutes per minute
    # one row per minute in a zone (`fat burn`, `cardio`, `peak`); `total minutes` is AZM credit (1 or 2)
    "active_zone_minutes": ("google_active_zone_minutes", ("heart rate zone", "total minutes")),
    "weight": ("google_weight", ("weight grams",)),
    "body_fat": ("google_body_fat", ("body fat percentage",)),
    # The same readings twice (`51` in one, `51.0` in the other): one resource, deduplicated when modelled.
    "resting_heart_rate": ("google_resting_heart_rate", ("beats per minute",)),
    "daily_resting_heart_rate": ("google_resting_heart_rate", ("beats per minute",)),
    "height": ("google_height", ("height millimeters",)),  # one file, `height.csv`
    # a thermometer's reading (README: "The body temperature in Celsius"), not the nightly skin temperature
    "body_temperature": ("google_body_temperature", ("temperature celsius",)),
}
# Google's nightly and daily vitals, one reading a night or day (`<family>_YYYY-MM-DD.csv` or `<family>.csv`),
# dated by their own `timestamp`: a date (`2024-09-26`) or a wall-clock time on its date, an instant (`Z`, an
# offset) on the configured zone's calendar. Headers from Google's `*_readme.txt` texts (fitbit-takeout.md §6).
GOOGLE_DAILY_CSV: dict[str, tuple[str, tuple[str, ...]]] = {
    "daily_heart_rate_variability": ("google_daily_hrv", ("average heart rate variability milliseconds",)),
    "daily_oxygen_saturation": ("google_daily_spo2", ("average percentage",)),
    "daily_respiratory_rate": ("google_daily_respiratory_rate", ("breaths per minute",)),
    # per sleep, in milli-breaths a minute (`full sleep stats - milli breaths per minute` 14500 = 14.5/min)
    "respiratory_rate_sleep_summary": ("google_respiratory_rate_sleep", ("full sleep stats - milli breaths per minute",)),
    # the mean of the night's skin temperature samples and the 30-day median of those means (degC)
    "daily_sleep_temperature_derivations": ("google_sleep_temperature",
                                            ("nightly temperature celsius", "baseline temperature celsius")),
    "daily_vo2_max": ("google_daily_vo2_max", ("daily vo2 max value",)),  # ml/kg/min
}
GOOGLE_RESOURCES = tuple(dict.fromkeys(resource for resource, _ in (*GOOGLE_CSV.values(), *GOOGLE_DAILY_CSV.values())))

_JSON_FILE = re.compile(r"^(?P<family>[a-z_]+)-(?P<tail>\d{4}-\d{2}-\d{2}|\d+)\.json$")
_CSV_FILE = re.compile(r"^(?P<prefix>[A-Za-z0-9 ()]+?) - (?P<tail>[0-9()-]+?)\.csv$")
# anchored: `daily_heart_rate_zones.csv` is its own family, never heart rate
_GOOGLE_FILE = re.compile(r"^(?P<family>[a-z_0-9]+?)(?:_\d{4}-\d{2}-\d{2})?\.csv$")
GOOGLE_FOLDERS = ("Physical Activity_GoogleData", "TIMESERIES_GoogleData", "Body Temperature_GoogleData")


@dataclass(frozen=True)
class Kind:
    """What one archive file is: its family and how it is read."""

    family: str
    form: Literal["minutes", "daily", "items", "daily_csv", "google_csv", "google_daily"]


def kind_of(name: str, folder: str) -> Kind | None:
    """The kind of an archive file from its base name (and folder, for Google's CSVs); None: not imported."""
    match = _JSON_FILE.match(name)
    if match:
        family = match.group("family")
        if family in MINUTE_SERIES:
            return Kind(family, "minutes")
        if family in DAILY_SERIES:
            return Kind(family, "daily")
        if family in ITEMS:
            return Kind(family, "items")
        return None
    if folder in GOOGLE_FOLDERS:
        match = _GOOGLE_FILE.match(name)
        if match and match.group("family") in GOOGLE_CSV:
            return Kind(GOOGLE_CSV[match.group("family")][0], "google_csv")
        if match and match.group("family") in GOOGLE_DAILY_CSV:
            return Kind(GOOGLE_DAILY_CSV[match.group("family")][0], "google_daily")
        return None
    match = _CSV_FILE.match(name)
    if match and match.group("prefix") in DAILY_CSV:
        return Kind(DAILY_CSV[match.group("prefix")], "daily_csv")
    return None


def normalise(name: str) -> str:
    """An entry name as matched: U+00A0 (variant D's `Google Health`) read as a space, `\\` as `/`."""
    return name.replace("\u00a0", " ").replace("\\", "/")


def layout_of(names: list[str]) -> Layout | None:
    """The layout of an archive from its (normalised) entry names; None: not a Fitbit export."""
    found: set[str] = set()
    for name in names:
        parts = name.split("/")
        if "user-site-export" in parts[:-1]:
            found.add("A")
        for i in range(len(parts) - 2):
            if parts[i] == "Takeout" and parts[i + 1] == "Fitbit":
                found.add("C")
            if parts[i] == "Takeout" and parts[i + 1] == "Google Health":
                found.add("D")
        if "Takeout" not in parts and len(parts) >= 3 and parts[-2] in ("Physical Activity", "Sleep", "Personal & Account"):
            found.add("B")
    for layout in ("D", "C", "A", "B"):  # a Takeout archive wins over folders that look like an account archive
        if layout in found:
            return layout  # type: ignore[return-value]
    return None
