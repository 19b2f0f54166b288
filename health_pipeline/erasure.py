"""Erasing a person: everything of theirs gone from every store, in one command, with a summary.

`health-pipeline people remove ID` deletes, in this order (each step idempotent, so a second run after
an interruption finishes the job):
1. their series in VictoriaMetrics (every series labelled `user="ID"`, tracked or not) and the export's
   bookkeeping of them;
2. their rows in every tidy table, `rejected_values`, `origin_disagreements`, the modelling state;
3. their raw records, sync state and tokens, and their entry in `people` (the raw store's file is
   vacuumed, so the deleted text does not linger in free pages);
4. the Dagster runs that synced only them (run tag `health/people=ID`) with their event logs.
A person listed in the config file is refused: the next run would start syncing them again.
"""

from dataclasses import dataclass, field

import dagster as dg
import duckdb

from health_pipeline.config import Config
from health_pipeline.export import ledger
from health_pipeline.naming import PEOPLE_TAG
from health_pipeline.settings import ConfigError
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.storage.raw_store import Erased, RawStore
from health_pipeline.storage.victoriametrics import VictoriaMetrics
from health_pipeline.tidy.catalog import DECLARED, SUMMARY

# Tables of the tidy store holding rows of a person besides the tidy tables.
BOOKKEEPING = ("rejected_values", "origin_disagreements", "_tidy_state")


@dataclass
class Erasure:
    """What erasing one person removed, per store."""

    person: str
    raw: Erased = field(default_factory=Erased)
    tidy_rows: dict[str, int] = field(default_factory=dict)
    series: int = 0
    runs: int = 0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        tidy = sum(self.tidy_rows.values())
        return [
            f"{self.person}: erased",
            f"  raw store: {self.raw.records} records, {self.raw.sync_states} sync states, {self.raw.tokens} tokens"
            f"{', their entry in people' if self.raw.person else ''}",
            f"  tidy store: {tidy} rows" + (f" ({', '.join(f'{t} {n}' for t, n in self.tidy_rows.items() if n)})"
                                             if tidy else ""),
            f"  VictoriaMetrics: {self.series} series" if self.series >= 0 else
            "  VictoriaMetrics: not enabled in the config (no series deleted there)",
            f"  Dagster: {self.runs} runs that synced only them",
            *(f"  note: {note}" for note in self.notes),
        ]


def erase_person(config: Config, person: str, instance: dg.DagsterInstance | None) -> Erasure:
    """Remove `person` from every store (see the module docstring); a `ConfigError` if the config lists them."""
    if person in config.people:
        raise ConfigError(f"{person!r} is listed in the config file ([people.{person}]): delete that table first, "
                          "then run this again (else the next run would sync them again)")
    store = RawStore(config.app.raw_db, person)
    known = {p.person for p in store.people()} | store.people_with_data()
    if person not in known and person != config.app.user:
        raise ConfigError(f"unknown person {person!r}: nobody of that id is in {config.app.raw_db}")
    erasure = Erasure(person)
    erasure.series = _erase_series(config, person, erasure)
    if config.app.duckdb.exists():
        with TidyStore(config.app.duckdb, wait_s=config.app.lock_wait_s).connect() as conn:
            erasure.tidy_rows = _erase_tidy(conn, person)
    erasure.raw = store.erase_person()
    if instance is not None:
        erasure.runs = _erase_runs(instance, person)
    return erasure


def _erase_series(config: Config, person: str, erasure: Erasure) -> int:
    """Delete every series labelled with the person in VictoriaMetrics; how many there were (-1: not enabled)."""
    settings = config.victoriametrics
    if not settings.enabled:
        return -1
    vm = VictoriaMetrics(settings)
    try:
        selector = f'{{user="{person}"}}'  # a person id holds no quote or backslash (settings.PERSON_ID)
        vm.force_flush()  # series imported moments ago are only then in the index
        found = len(vm.series(selector))
        vm.delete_series([selector])
        return found
    finally:
        vm.close()


def _erase_tidy(conn: duckdb.DuckDBPyConnection, person: str) -> dict[str, int]:
    """Delete the person's rows of every tidy and bookkeeping table and of the export's ledger, in one transaction."""
    present = {t for (t,) in conn.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
                                          "AND database_name = current_database()").fetchall()}
    counts: dict[str, int] = {}
    conn.execute("BEGIN TRANSACTION")
    try:
        for table in [*DECLARED, SUMMARY.name, *BOOKKEEPING]:
            if table in present:
                (n,) = conn.execute(f"SELECT count(*) FROM {table} WHERE person = ?", [person]).fetchone()
                conn.execute(f"DELETE FROM {table} WHERE person = ?", [person])
                counts[table] = int(n)
        if "_vm_series" in present:
            ledger.forget_person(conn, person)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("CHECKPOINT")
    return counts


def _erase_runs(instance: dg.DagsterInstance, person: str) -> int:
    """Delete the runs (and their event logs) that synced only this person."""
    runs = instance.get_runs(filters=dg.RunsFilter(tags={PEOPLE_TAG: person}))
    for run in runs:
        instance.delete_run(run.run_id)
    return len(runs)
