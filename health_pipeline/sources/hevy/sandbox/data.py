"""Hevy workouts of the sandbox person: gym sessions on training days, later edits and deletions.

Each workout is logged a few minutes after it ends (`created_at`). Some are edited hours or days
later and a few are deleted; those changes exist only once the clock has passed them, so
advancing the clock produces `updated` and `deleted` events.

Shapes as the live API sends them (real-payload-corrections.md §15-16): `superset_id` (the swagger
spells it `supersets_id`; `HevySettings.supersets_field` switches), workout times with a `+00:00`
offset, and `created_at` / `updated_at` / `deleted_at` with milliseconds.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from health_pipeline.sandbox.world import SandboxWorld, rng_for, stable_uuid

# (id, title, type, primary muscle group)
TEMPLATES: tuple[tuple[str, str, str, str], ...] = (
    ("79D0BB3A", "Bench Press (Barbell)", "weight_reps", "chest"),
    ("3601968B", "Incline Bench Press (Dumbbell)", "weight_reps", "chest"),
    ("D04AC939", "Squat (Barbell)", "weight_reps", "quadriceps"),
    ("C6272009", "Deadlift (Barbell)", "weight_reps", "lower_back"),
    ("7B8D84E8", "Overhead Press (Barbell)", "weight_reps", "shoulders"),
    ("55E6546F", "Bent Over Row (Barbell)", "weight_reps", "upper_back"),
    ("1B2B1E7C", "Pull Up", "reps_only", "lats"),
    ("37FCC2BB", "Lat Pulldown (Cable)", "weight_reps", "lats"),
    ("A5AC6449", "Leg Press (Machine)", "weight_reps", "quadriceps"),
    ("F1E57334", "Romanian Deadlift (Dumbbell)", "weight_reps", "hamstrings"),
    ("05293BCA", "Bicep Curl (Dumbbell)", "weight_reps", "biceps"),
    ("2B4B7310", "Triceps Pushdown (Cable)", "weight_reps", "triceps"),
    ("724CDE60", "Lateral Raise (Dumbbell)", "weight_reps", "shoulders"),
    ("DE68C825", "Plank", "duration", "abdominals"),
    ("243710DE", "Treadmill", "distance_duration", "cardio"),
)
ROUTINES = {
    "Push": ("79D0BB3A", "3601968B", "7B8D84E8", "724CDE60", "2B4B7310"),
    "Pull": ("C6272009", "55E6546F", "1B2B1E7C", "37FCC2BB", "05293BCA"),
    "Legs": ("D04AC939", "A5AC6449", "F1E57334", "DE68C825", "243710DE"),
}
_BASE_KG = {"79D0BB3A": 80, "3601968B": 28, "D04AC939": 100, "C6272009": 130, "7B8D84E8": 50, "55E6546F": 70,
            "37FCC2BB": 60, "A5AC6449": 180, "F1E57334": 30, "05293BCA": 14, "2B4B7310": 30, "724CDE60": 10}


@dataclass(frozen=True)
class WorkoutHistory:
    """One workout and what happens to it over time."""

    id: str
    day: date
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None


def iso(instant: datetime) -> str:
    """A UTC instant with `Z`, to the second (routines)."""
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def offset_iso(instant: datetime) -> str:
    """A workout's `start_time` / `end_time`: UTC with a `+00:00` offset, to the second."""
    return instant.astimezone(timezone.utc).isoformat(timespec="seconds")


def ms_iso(instant: datetime) -> str:
    """`created_at`, `updated_at`, `deleted_at`: UTC with `Z` and milliseconds (`...18:11:02.518Z`)."""
    return instant.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ms(rng: Any) -> timedelta:
    return timedelta(milliseconds=rng.randint(1, 999))


def history(world: SandboxWorld, day: date) -> WorkoutHistory | None:
    """The gym workout of a day (if the person went), with its later edit and deletion times."""
    if not world.has_day(day):
        return None
    plan = world.plan(day)
    rng = rng_for(world.seed, "hevy", "history", day.isoformat())
    if plan.workout_start_min is None or rng.random() > 0.7:
        return None
    start = (world.local_midnight(day) + timedelta(minutes=plan.workout_start_min)).astimezone(timezone.utc)
    created = start + timedelta(minutes=plan.workout_minutes + rng.randint(2, 15)) + _ms(rng)
    edited = created + timedelta(hours=rng.randint(1, 72)) + _ms(rng) if rng.random() < 0.15 else None
    deleted = created + timedelta(hours=rng.randint(2, 96)) + _ms(rng) if rng.random() < 0.05 else None
    return WorkoutHistory(stable_uuid(world.seed, "hevy", "workout", day), day, created, edited, deleted)


def implausible_workout_day(world: SandboxWorld) -> date | None:
    """The day of the workout that carries Hevy's one impossible value: the last workout on or
    before `implausible_day()` not deleted by now (with `implausible_values`)."""
    if not world.implausible_values:
        return None
    day = world.implausible_day()
    while world.has_day(day):
        item = history(world, day)
        if item is not None and (item.deleted_at is None or item.deleted_at > world.clock.now()):
            return day
        day -= timedelta(days=1)
    return None


def workout(world: SandboxWorld, item: WorkoutHistory, edited: bool, superset_key: str = "superset_id") -> dict[str, Any]:
    """The workout JSON as Hevy serves it, before or after its edit."""
    plan = world.plan(item.day)
    rng = rng_for(world.seed, "hevy", "workout", item.day.isoformat())
    start = (world.local_midnight(item.day) + timedelta(minutes=plan.workout_start_min or 0)).astimezone(timezone.utc)
    routine = rng.choice(sorted(ROUTINES))
    exercises = []
    superset = rng.random() < 0.5
    for index, template_id in enumerate(ROUTINES[routine]):
        superset_id = 0 if superset and index in (3, 4) else None
        exercises.append(_exercise(rng, index, template_id, superset_id, item.day, superset_key))
    if edited:  # the user fixed a typo in the title and added a forgotten set
        exercises[0]["sets"].append(dict(exercises[0]["sets"][-1], index=len(exercises[0]["sets"])))
    if item.day == implausible_workout_day(world):
        exercises[0]["sets"][-1]["rpe"] = 45.0  # RPE runs 1 to 10
    updated = item.edited_at if edited and item.edited_at else item.created_at
    return {
        "id": item.id,
        "title": f"{routine} Day" + (" (edited)" if edited else ""),
        "routine_id": stable_uuid(world.seed, "hevy", "routine", routine),
        "description": "",
        "start_time": offset_iso(start),
        "end_time": offset_iso(start + timedelta(minutes=plan.workout_minutes)),
        "updated_at": ms_iso(updated),
        "created_at": ms_iso(item.created_at),
        "exercises": exercises,
    }


def _exercise(rng: Any, index: int, template_id: str, superset_id: int | None, day: date,
              superset_key: str = "superset_id") -> dict[str, Any]:
    title, kind = next((t[1], t[2]) for t in TEMPLATES if t[0] == template_id)
    sets: list[dict[str, Any]] = []

    def add(set_type: str, weight: float | None, reps: int | None, distance: float | None = None,
            duration: int | None = None, rpe: float | None = None) -> None:
        sets.append({"index": len(sets), "type": set_type, "weight_kg": weight, "reps": reps,
                     "distance_meters": distance, "duration_seconds": duration, "rpe": rpe, "custom_metric": None})

    if kind == "distance_duration":
        add("normal", None, None, float(rng.randint(15, 30) * 100), rng.randint(10, 20) * 60)
    elif kind == "duration":
        for _ in range(3):
            add("normal", None, None, None, rng.randint(45, 90))
    elif kind == "reps_only":
        for _ in range(3):
            add("normal", None, rng.randint(6, 12), rpe=rng.choice((7, 7.5, 8, 8.5, 9)))
        if rng.random() < 0.3:
            add("failure", None, rng.randint(3, 6), rpe=10)
    else:
        # a slow progression over the year, rounded to plates
        base = _BASE_KG[template_id] * (1 + (day.toordinal() % 365) / 365 * 0.08)
        working = round(base / 2.5) * 2.5
        for _ in range(rng.randint(1, 2)):
            add("warmup", round(working * 0.5 / 2.5) * 2.5, 10)
        for _ in range(3):
            add("normal", working, rng.randint(5, 10), rpe=rng.choice((None, 7, 7.5, 8, 8.5, 9)))
        if rng.random() < 0.25:
            add("dropset", round(working * 0.7 / 2.5) * 2.5, rng.randint(8, 12))
    return {"index": index, "title": title, "notes": "", "exercise_template_id": template_id,
            superset_key: superset_id, "sets": sets}


def templates() -> list[dict[str, Any]]:
    return [
        {"id": tid, "title": title, "type": kind, "primary_muscle_group": muscle,
         "secondary_muscle_groups": [], "is_custom": False}
        for tid, title, kind, muscle in TEMPLATES
    ]


def routines(world: SandboxWorld) -> list[dict[str, Any]]:
    created = iso(world.local_midnight(world.first_day()) - timedelta(days=120))
    return [
        {"id": stable_uuid(world.seed, "hevy", "routine", name), "title": f"{name} Day", "folder_id": None,
         "updated_at": created, "created_at": created,
         "exercises": [
             {"index": i, "title": next(t[1] for t in TEMPLATES if t[0] == tid), "rest_seconds": 90, "notes": "",
              "exercise_template_id": tid, "superset_id": None,
              "sets": [{"index": s, "type": "normal", "weight_kg": None, "reps": 8, "distance_meters": None,
                        "duration_seconds": None, "custom_metric": None} for s in range(3)]}
             for i, tid in enumerate(tids)
         ]}
        for name, tids in sorted(ROUTINES.items())
    ]
