"""`health-pipeline people add | list | remove`: who the deployment syncs, managed without touching code.

Adding writes the raw store's `people` table (the config file's `[people.<id>]` tables are read as they
are); a run picks the change up at once, no definitions to reload. Removing erases the person from
every store (`health_pipeline.erasure`).
"""

import argparse
import sys
from collections.abc import Callable

from health_pipeline.config import Config
from health_pipeline.erasure import erase_person
from health_pipeline.instance.home import open_instance
from health_pipeline.people import Person, add_person, csv_person, everyone, read_people_csv
from health_pipeline.settings import ConfigError
from health_pipeline.storage.raw_store import RawStore


def people_command(args: argparse.Namespace, config: Config, say: Callable[[str], None]) -> int:
    store = config.raw_store()
    store.init()
    if args.people_command == "add":
        return _add(args, config, store, say)
    if args.people_command == "list":
        _list(config, store, say)
        return 0
    return _remove(args, config, say)


def _add(args: argparse.Namespace, config: Config, store: RawStore, say: Callable[[str], None]) -> int:
    if (args.csv is None) == (args.person is None):
        raise ConfigError("give a person's ID or --csv PATH (not both)")
    if args.csv is not None:
        rows = read_people_csv(args.csv)
        wanted = [csv_person(row, line, args.csv) for line, row in enumerate(rows, start=2)]
        seen: set[str] = set()
        for line, given in enumerate(wanted, start=2):  # everything checked before anyone is added
            if given["person"] in seen:
                raise ConfigError(f"{args.csv}:{line}: {given['person']!r} is listed twice")
            seen.add(str(given["person"]))
        added = [add_person(config, store, **given) for given in wanted]  # type: ignore[arg-type]
        cohorts = sorted({p.cohort for p in added})
        say(f"{len(added)} people added from {args.csv} in {len(cohorts)} cohort{'s' if len(cohorts) != 1 else ''}")
        return 0
    person = add_person(config, store, args.person, timezone=args.timezone, start_date=args.start_date,
                        sources=args.source, cohort=args.cohort)
    say(f"{person.id}: added (cohort {person.cohort}, time zone {person.timezone}); authorise their sources with "
        f"`health-pipeline auth SOURCE --person {person.id}`")
    return 0


def _list(config: Config, store: RawStore, say: Callable[[str], None]) -> None:
    people = everyone(config, store)
    say(f"{'person':<20} {'cohort':<12} {'time zone':<22} {'from':<9} credentials")
    for person in people:
        say(f"{person.id:<20} {person.cohort:<12} {person.timezone:<22} {person.origin:<9} "
            f"{_credentials(config, store.for_person(person.id), person)}")


def _credentials(config: Config, store: RawStore, person: Person) -> str:
    """Per enabled source the person uses: whether a token (or key) is stored for them."""
    shown = []
    for name in config.enabled_providers:
        if person.uses(name):
            token = store.token(name)
            from_config = person.id == config.app.user and bool(getattr(config.provider(name), "api_key", None))
            shown.append(f"{name} {'yes' if token is not None else 'config key' if from_config else 'no'}")
    return ", ".join(shown) or "-"


def _remove(args: argparse.Namespace, config: Config, say: Callable[[str], None]) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            raise ConfigError(f"erasing {args.person} cannot be undone: pass --yes")
        answer = input(f"Erase {args.person} from every store (records, tokens, tidy rows, series, runs)? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            say("nothing erased")
            return 1
    with open_instance(config) as instance:
        erasure = erase_person(config, args.person, instance)
    for line in erasure.lines():
        say(line)
    return 0
