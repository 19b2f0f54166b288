"""A run over several people: each person's part done on its own, one person's failure failing only theirs.

Every asset that fetches, models or exports does its work once per person the run covers
(`RawStoreResource.people`), with that person's store, client, time zone and settings. Its metadata is
that person's figures when the run covers one person (the single-person home sees what it always
saw), else the figures added up plus `people` and, per person that failed, why.

When a person's part fails: if everyone failed, the run fails as it would for one person (retried
when the error is retryable). If others succeeded, their data stays landed and the asset succeeds,
the person's error is logged and recorded in `people_failed`, and `health-pipeline status` shows it;
a retryable error (a server down, a rate limit) fails the step after the others' parts instead, so
Dagster's retry takes it again (the others' parts resume with nothing to do).
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dagster as dg

from health_pipeline.people import Person


def per_person(context: Any, people: Sequence[Person], work: Callable[[Person], Mapping[str, Any]],
               what: str = "") -> dict[str, Any]:
    """Run `work(person)` for each person (its metadata) and combine the metadata as the module says."""
    if not people:
        return {"people": "none (nobody the run covers uses this source)"}
    done: dict[str, Mapping[str, Any]] = {}
    failed: dict[str, dg.Failure] = {}
    for person in people:
        try:
            done[person.id] = work(person)
        except dg.Failure as err:
            if len(people) == 1:
                raise
            failed[person.id] = err
            context.log.error(f"{person.id}: {what + ': ' if what else ''}{err.description}")
    if not done:
        first = next(iter(failed.values()))
        raise dg.Failure(description="; ".join(f"{p}: {e.description}" for p, e in failed.items()),
                         allow_retries=first.allow_retries) from None
    retryable = {p: e for p, e in failed.items() if e.allow_retries}
    if retryable:
        raise dg.Failure(description=(f"{len(done)} of {len(people)} people done; retried for "
                                      + "; ".join(f"{p}: {e.description}" for p, e in retryable.items())),
                         allow_retries=True)
    if len(people) == 1:
        return dict(done[people[0].id])
    combined = added_up(list(done.values()))
    combined["people"] = ", ".join(done)
    if failed:
        combined["people_failed"] = dg.MetadataValue.json({p: e.description for p, e in failed.items()})
    combined["per_person"] = dg.MetadataValue.md(per_person_table(people, done, failed))
    return combined


def per_person_table(people: Sequence[Person], done: Mapping[str, Mapping[str, Any]],
                     failed: Mapping[str, dg.Failure]) -> str:
    """Each person's figures (the numbers of their metadata) or why their part failed: what the UI shows
    of a household's run, person by person."""
    keys = [k for k in dict.fromkeys(k for part in done.values() for k in part)
            if all(isinstance(part.get(k, 0), (int, float)) and not isinstance(part.get(k, 0), bool)
                   for part in done.values())]
    lines = ["| person | " + " | ".join(keys) + " | status |", "|---" * (len(keys) + 2) + "|"]
    for person in people:
        if person.id in done:
            figures = [str(done[person.id].get(k, "")) for k in keys]
            lines.append(f"| {person.id} | " + " | ".join(figures) + " | ok |")
        elif person.id in failed:
            reason = (failed[person.id].description or "failed").replace("|", "/")
            lines.append(f"| {person.id} | " + " | ".join("" for _ in keys) + f" | failed: {reason} |")
    return "\n".join(lines)


def added_up(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Several people's metadata as one: numbers added, the rest kept when all agree, else listed."""
    keys = list(dict.fromkeys(k for part in parts for k in part))
    out: dict[str, Any] = {}
    for key in keys:
        values = [part[key] for part in parts if key in part]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            out[key] = sum(values)
        elif all(v == values[0] for v in values):
            out[key] = values[0]
        else:
            out[key] = "; ".join(dict.fromkeys(str(v) for v in values))
    return out
