"""`health-pipeline people add | list | remove | access`: who the deployment syncs, managed without
touching code.

Adding writes the raw store's `people` table (the config file's `[people.<id>]` tables are read as they
are); a run picks the change up at once, no definitions to reload. Removing erases the person from
every store (`health_pipeline.erasure`). Access writes vmauth's config (`health_pipeline.export.access`):
each person reads only their own series.
"""

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from health_pipeline.config import Config
from health_pipeline.erasure import erase_person
from health_pipeline.instance.home import open_instance
from health_pipeline.export.access import (
    AccessConfigError, StoredAccess, new_secret, read_vmauth_config, write_vmauth_config,
)
from health_pipeline.people import Person, add_person, csv_person, everyone, read_people_csv, select
from health_pipeline.settings import ConfigError, Secret
from health_pipeline.storage.raw_store import RawStore


def people_command(args: argparse.Namespace, config: Config, say: Callable[[str], None]) -> int:
    store = config.raw_store()
    store.init()
    if args.people_command == "add":
        return _add(args, config, store, say)
    if args.people_command == "list":
        _list(config, store, say)
        return 0
    if args.people_command == "access":
        try:
            return _access(args, config, store, say)
        except AccessConfigError as err:
            raise ConfigError(str(err)) from None
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
    if args.vmauth is not None:
        try:
            _drop_access(args.vmauth, args.person, say)
        except AccessConfigError as err:
            raise ConfigError(str(err)) from None
    return 0


ADMIN_PASSWORD_ENV = "HEALTH_PIPELINE_VMAUTH_ADMIN_PASSWORD"
RELOAD = "vmauth reads it again on SIGHUP (`docker compose -f deploy/docker/compose.household.yaml kill -s HUP vmauth`)"


def _access(args: argparse.Namespace, config: Config, store: RawStore, say: Callable[[str], None]) -> int:
    """Write the vmauth config for the chosen people (default everyone), keeping the secrets it already holds.

    The secrets live only in that file (mode 600): it is read back before it is written again, so a
    participant's credentials survive every re-run. People left out of this run lose their access.
    """
    people = select(everyone(config, store), args.person or ())
    chosen = [p.id for p in people]
    if args.show_secret is not None and args.show_secret not in chosen:
        raise ConfigError(f"--show-secret {args.show_secret}: not among the people given access "
                          f"({', '.join(chosen)})")
    stored = read_vmauth_config(args.output)
    url = args.vm_url or (stored.victoriametrics_url if stored else None)
    if url is None:
        raise ConfigError(f"{args.output} does not exist yet: give --vm-url, the URL vmauth reaches VictoriaMetrics at "
                          "(e.g. http://victoriametrics:8428)")
    held = stored.people if stored else {}
    secrets = {person: held.get(person) or Secret(new_secret()) for person in chosen}
    admin_name = args.admin or (stored.admin[0] if stored else "admin")
    from_env = os.environ.get(ADMIN_PASSWORD_ENV, "")
    kept_admin = stored.admin[1] if stored and stored.admin[0] == admin_name else None
    admin_secret = Secret(from_env) if from_env else kept_admin or Secret(new_secret())
    # a re-run keeps the file's login kind: switching it would lock every participant out
    auth = "bearer" if args.bearer else "basic" if args.basic else stored.auth if stored else "basic"
    written = write_vmauth_config(args.output, list(secrets.items()), url, admin=(admin_name, admin_secret), auth=auth)

    where = written.path
    for person in chosen:
        say(f"{person}: {'secret kept' if person in held else 'new secret'} in {where}")
    for person in sorted(set(held) - set(chosen)):
        say(f"{person}: no longer in {where}; their secret stops working once vmauth reloads")
    admin_from = (f"from ${ADMIN_PASSWORD_ENV}" if from_env else
                  f"kept in {where}" if admin_secret == kept_admin else f"new, in {where}")
    say(f"admin {admin_name!r} (basic auth, reads and writes everything): password {admin_from}")
    say(written.describe())
    if args.show_secret is not None:
        kind = "bearer token" if auth == "bearer" else f"password (user name {args.show_secret})"
        say(f"{args.show_secret}'s {kind}: {secrets[args.show_secret].reveal()}")
    say(RELOAD)
    return 0


def _drop_access(path: Path, person: str, say: Callable[[str], None]) -> None:
    """Write the vmauth config at `path` again without `person`, everyone else's secrets unchanged."""
    stored = read_vmauth_config(path)
    if stored is None:
        say(f"{path}: no vmauth config there, nothing to drop")
        return
    if person not in stored.people:
        say(f"{person}: not in {path}")
        return
    rest: list[tuple[str, str | Secret]] = [(p, s) for p, s in stored.people.items() if p != person]
    write_vmauth_config(path, rest, stored.victoriametrics_url, admin=stored.admin, auth=stored.auth)
    say(f"{person}: dropped from {path}; {RELOAD}")
