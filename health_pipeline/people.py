"""The people one deployment syncs: who they are, their cohort, their calendar and their sources.

People come from two places: `[people.<id>]` tables in the config file (a household writes them
there) and the raw store's `people` table (a study adds hundreds with `health-pipeline people add`
or a CSV, without touching code or reloading definitions). With neither, there is one person, the
single-person home's `[app] user`; that person also stays while they own data (a home that was one
person before others were added, or a store migrated from before people existed).

A cohort is a set of people synced together (one Dagster partition of people): in a household each
person is their own cohort; `[app] cohort_size` fills cohorts of that many for a study.
"""

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from health_pipeline.config import Config
from health_pipeline.settings import AppConfig, ConfigError, person_id_problem, timezone_problem
from health_pipeline.storage.raw_store import RawStore, StoredPerson


@dataclass(frozen=True)
class Person:
    """One person of the deployment, with every setting resolved."""

    id: str
    cohort: str
    timezone: str
    start_date: date | None  # None: each source's start_date
    sources: tuple[str, ...] | None  # None: every enabled source
    origin: str  # "config", "cli", "migrated", or "default" (the single-person home, never listed)

    def uses(self, source: str) -> bool:
        return self.sources is None or source in self.sources

    def start_for(self, source_start: date) -> date:
        """The first day to fetch of a source whose section starts at `source_start`."""
        return self.start_date or source_start

    def app(self, app: AppConfig) -> AppConfig:
        """`[app]` as this person's clients and models see it: their time zone, their id as the user."""
        if app.timezone == self.timezone and app.user == self.id:
            return app
        return app.model_copy(update={"timezone": self.timezone, "user": self.id})


def everyone(config: Config, store: RawStore) -> list[Person]:
    """Every person of the deployment, by id: the config's, the store's, and the default person while
    they are the only one or own data."""
    found: dict[str, Person] = {}
    for stored in store.people():
        found[stored.person] = _from_store(stored, config)
    for person, section in config.people.items():
        found[person] = Person(person, section.cohort or person, section.timezone or config.app.timezone,
                               section.start_date, section.sources, "config")
    default = config.app.user
    if default not in found and (not found or store.for_person(default).owns_data()):
        found[default] = Person(default, default, config.app.timezone, None, None, "default")
    return [found[p] for p in sorted(found)]


def _from_store(stored: StoredPerson, config: Config) -> Person:
    return Person(stored.person, stored.cohort, stored.timezone or config.app.timezone,
                  date.fromisoformat(stored.start_date) if stored.start_date else None, stored.sources,
                  stored.origin)


def select(people: Sequence[Person], ids: Iterable[str] = (), cohorts: Iterable[str] = ()) -> list[Person]:
    """The people named (by id or cohort; neither: everyone), or a `ConfigError` naming an unknown one."""
    ids, cohorts = list(ids), list(cohorts)
    known = {p.id for p in people}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ConfigError(f"unknown person {unknown[0]!r} (known: {', '.join(sorted(known)) or 'nobody'}; "
                          "add one with `health-pipeline people add ID`)")
    known_cohorts = {p.cohort for p in people}
    unknown = [c for c in cohorts if c not in known_cohorts]
    if unknown:
        raise ConfigError(f"unknown cohort {unknown[0]!r} (known: {', '.join(sorted(known_cohorts))})")
    if not ids and not cohorts:
        return list(people)
    return [p for p in people if p.id in ids or p.cohort in cohorts]


def next_cohort(people: Sequence[Person], size: int) -> str:
    """The cohort a newly added person joins: their own id when `size` is 1 (the caller uses it),
    else the last numbered cohort (`c001`, `c002`, ...) that has room, or a new one."""
    counts: dict[str, int] = {}
    for person in people:
        if person.cohort.startswith("c") and person.cohort[1:].isdigit():
            counts[person.cohort] = counts.get(person.cohort, 0) + 1
    for cohort in sorted(counts):
        if counts[cohort] < size:
            return cohort
    return f"c{len(counts) + 1:03d}"


def add_person(config: Config, store: RawStore, person: str, *, timezone: str | None = None,
               start_date: date | None = None, sources: Sequence[str] | None = None,
               cohort: str | None = None) -> Person:
    """List a person in the raw store (origin "cli"); a `ConfigError` for a bad id, zone, source or cohort,
    or for a person the config file lists (edit it there)."""
    problem = person_id_problem(person)
    if problem:
        raise ConfigError(problem)
    if person in config.people:
        raise ConfigError(f"{person!r} is listed in the config file ([people.{person}]): change them there")
    if timezone is not None and timezone_problem(timezone):
        raise ConfigError(f"{person}: {timezone_problem(timezone)}")
    known = [*config.sources, *config.imports]
    unknown = [s for s in sources or () if s not in known]
    if unknown:
        raise ConfigError(f"{person}: unknown source {unknown[0]!r} (known: {', '.join(known)})")
    if cohort is not None and person_id_problem(cohort):
        raise ConfigError(f"cohort {cohort!r}: {person_id_problem(cohort).split(': ', 1)[1]}")
    people = [p for p in everyone(config, store) if p.id != person]
    chosen = cohort or (person if config.app.cohort_size == 1 else next_cohort(people, config.app.cohort_size))
    stored = store.for_person(person).save_person(chosen, timezone=timezone, start_date=start_date,
                                                  sources=sources, origin="cli")
    return _from_store(stored, config)


def read_people_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a people CSV (header `id[,timezone][,start_date][,sources][,cohort]`, sources separated by
    spaces or `;`), or a `ConfigError` naming the line that is wrong."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or "id" not in reader.fieldnames:
                raise ConfigError(f"{path}: the first line must name the columns, at least `id` "
                                  "(and any of timezone, start_date, sources, cohort)")
            extra = [f for f in reader.fieldnames if f not in ("id", "timezone", "start_date", "sources", "cohort")]
            if extra:
                raise ConfigError(f"{path}: unknown column {extra[0]!r} (known: id, timezone, start_date, sources, "
                                  "cohort)")
            return [{k: (v or "").strip() for k, v in row.items()} for row in reader]
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the file: {err.strerror or err}") from None
    except (UnicodeDecodeError, csv.Error) as err:
        raise ConfigError(f"{path}: not a CSV file: {err}") from None


def csv_person(row: dict[str, str], line: int, path: Path) -> dict[str, object]:
    """One CSV row as `add_person`'s keyword arguments (a `ConfigError` naming the line)."""
    where = f"{path}:{line}"
    if not row.get("id"):
        raise ConfigError(f"{where}: the id is empty")
    start = None
    if row.get("start_date"):
        try:
            start = date.fromisoformat(row["start_date"])
        except ValueError:
            raise ConfigError(f"{where}: start_date {row['start_date']!r} is not a date (YYYY-MM-DD)") from None
    sources = row["sources"].replace(";", " ").split() if row.get("sources") else None
    return {"person": row["id"], "timezone": row.get("timezone") or None, "start_date": start,
            "sources": sources, "cohort": row.get("cohort") or None}


def default_person(config: Config) -> Person:
    """The single-person home's person (`[app] user`), before any store exists."""
    return Person(config.app.user, config.app.user, config.app.timezone, None, None, "default")
