"""The raw store: provider JSON kept verbatim, the source of truth for everything above.

Tables (the user-facing contract in design.md; the person leads every key):
  records(person, provider, resource, record_id, day, payload, payload_sha256, fetched_at, deleted_at)
  sync_state(person, provider, resource, watermark, detail, updated_at)
  oauth_tokens(person, provider, access_token, refresh_token, token_type, scope, expires_at, updated_at)
  people(person, cohort, timezone, start_date, sources, origin, added_at)
  schema_version(version, applied_at)

They live in a SQLite file (one machine, the default: health_pipeline/storage/raw_sqlite.py) or on a
PostgreSQL server every machine writes (`[app] raw_db = "postgresql+psycopg2://…"`:
health_pipeline/storage/raw_postgres.py). This module is what both share: the SQL of every read and
write, run on the backend's connection (sqlite3's own, or psycopg2's behind the same `execute`), and
the backend decides how a write transaction is taken, how the schema is made, and how a JSON path is
read.

A `RawStore` reads and writes one person's rows (`person`, default the single-person home's "me");
`for_person` gives another's, `erase_person` removes everything of one. A file written by a release
before people existed (schema 1) is migrated in place, in one transaction, to the person the store
is opened for: nothing refetched, nothing lost.

Every landed window is one transaction: a crash leaves either the old window or the new one.
"""

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from health_pipeline.settings import DEFAULT_PERSON, DatabaseUrl, is_database_url, person_id_problem
from health_pipeline.storage.raw_postgres import PostgresConnection, PostgresDatabase
from health_pipeline.storage.raw_schema import RECORD_COLUMNS as _RECORD_COLUMNS
from health_pipeline.storage.raw_schema import SCHEMA_VERSION, RawStoreError, utc_now_text
from health_pipeline.storage.raw_sqlite import BUSY_TIMEOUT_MS, SqliteDatabase

__all__ = ["BUSY_TIMEOUT_MS", "SCHEMA_VERSION", "RawStoreError", "utc_now_text"]

# A connection the shared SQL runs on: sqlite3's own (nothing between the import loops and SQLite), or
# psycopg2's behind the same `execute`.
Connection = sqlite3.Connection | PostgresConnection


@dataclass(frozen=True)
class RawRecord:
    """One record as a provider client hands it over: an id, its local day, the JSON."""

    record_id: str
    day: str | None
    payload: Any
    # The payload already serialised the store's way (compact, key order kept), when its producer has a
    # faster serialiser (an importer writing millions of rows); it is stored and hashed as given.
    text: str | None = None


@dataclass(frozen=True)
class StoredRecord:
    """One row of `records` as read back."""

    provider: str
    resource: str
    record_id: str
    day: str | None
    payload: str
    payload_sha256: str
    fetched_at: str
    deleted_at: str | None


@dataclass
class LandingCounts:
    """What landing a window did: the figures shown as asset metadata."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    # the local days whose records were written, rewritten or tombstoned (ISO dates; a moved record
    # counts on its old day and its new one): what an import must model again
    days: set[str] = field(default_factory=set, compare=False)

    def __iadd__(self, other: "LandingCounts") -> "LandingCounts":
        self.new += other.new
        self.changed += other.changed
        self.unchanged += other.unchanged
        self.deleted += other.deleted
        self.days |= other.days
        return self

    @property
    def written(self) -> int:
        return self.new + self.changed + self.deleted

    def as_metadata(self) -> dict[str, int]:
        """The figures every landing asset reports."""
        return {"records_new": self.new, "records_changed": self.changed,
                "records_unchanged": self.unchanged, "records_deleted": self.deleted}


@dataclass(frozen=True)
class StoredToken:
    """An OAuth token as kept in `oauth_tokens`. Its repr hides the token text."""

    provider: str
    access_token: str
    refresh_token: str | None
    token_type: str
    scope: str | None
    expires_at: datetime | None
    updated_at: str

    def __repr__(self) -> str:
        return f"StoredToken(provider={self.provider!r}, expires_at={self.expires_at!r}, access_token=<hidden>)"


def canonical_json(payload: Any) -> str:
    """The payload as stored: the provider's JSON, compact, key order kept."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class StoredPerson:
    """A person of the store's `people` table: whose data, their cohort (partition), their calendar."""

    person: str
    cohort: str
    timezone: str | None  # None: the configured `[app] timezone`
    start_date: str | None  # None: each source's `start_date`
    sources: tuple[str, ...] | None  # None: every enabled source
    origin: str  # "config" (listed in the config file), "cli" (added with `people add`), "migrated"
    added_at: str


@dataclass
class Erased:
    """What erasing a person removed from the raw store."""

    records: int = 0
    sync_states: int = 0
    tokens: int = 0
    person: bool = False


class RawStore:
    """Reads and writes one person's rows of the raw store at `location` (cheap to construct; opens
    connections per use): a SQLite file's path, or a PostgreSQL server's URL
    (`postgresql+psycopg2://…`, a `DatabaseUrl`). `person` defaults to the single-person home's."""

    def __init__(self, location: Path | str | DatabaseUrl, person: str = DEFAULT_PERSON) -> None:
        problem = person_id_problem(person)
        if problem:
            raise ValueError(problem)
        self.person = person
        # where the store is, fit to show: a server's URL is a DatabaseUrl, its password `***` in `str`
        self.location: Path | DatabaseUrl
        self._db: SqliteDatabase | PostgresDatabase
        if isinstance(location, str) and is_database_url(location):
            location = DatabaseUrl(location)
        if isinstance(location, DatabaseUrl):
            self.location = location
            self._db = PostgresDatabase(location.reveal())
        else:
            self.location = Path(location)
            self._db = SqliteDatabase(self.location)

    def for_person(self, person: str) -> "RawStore":
        """The same store, reading and writing `person`'s rows."""
        return RawStore(self.location, person)

    @property
    def path(self) -> Path | None:
        """The SQLite file; None when the store is on a server."""
        return self._db.path if isinstance(self._db, SqliteDatabase) else None

    @property
    def scratch_dir(self) -> Path | None:
        """Where an import may keep its scratch files: beside the SQLite file (its disk has room for
        what lands there); None (the system's temporary folder) for a server."""
        return self._db.scratch_dir

    def lock_server(self) -> str:
        """Where the machines sharing this store can hold locks (a token refresh's): the server's URL
        when the store is on one, "" for a file (a lock file beside it does)."""
        return self._db.lock_server()

    # -- connections -------------------------------------------------------------------------

    def init(self) -> None:
        """Create the store (a file: mode 0600) and the schema, or migrate a file written before people;
        safe to call again."""
        self._db.init(self.person)

    def exists(self) -> bool:
        """Whether the store has been created (reading never creates it)."""
        return self._db.exists()

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A connection to an initialised store, closed (or handed back) afterwards."""
        with self._db.connection(self.person) as conn:
            yield conn

    @contextmanager
    def transaction(self, lock: str | None = None, *, whole: bool = False) -> Iterator[Connection]:
        """One write transaction. SQLite takes the file's write lock at once, so writers queue instead of
        deadlocking; PostgreSQL queues the writers of the same `lock` (what the transaction reads, then
        writes), and `whole` keeps every other writer out."""
        with self._db.transaction(self.person, lock, whole=whole) as conn:
            yield conn

    def _window_lock(self, provider: str, resource: str) -> str:
        return f"{self.person}/{provider}/{resource}"

    # -- records -----------------------------------------------------------------------------

    def land(
        self,
        provider: str,
        resource: str,
        records: Iterable[RawRecord],
        *,
        window: tuple[date, date] | None = None,
        complete: bool = False,
        watermark: str | None = None,
        detail: dict[str, Any] | None = None,
        retire: Iterable[str] = (),
        touch: bool = False,
    ) -> LandingCounts:
        """Upsert `records` in one transaction and return what changed.

        An unchanged payload is not rewritten. With `window` (first and last local day,
        inclusive) the fetch is the whole truth for those days, and with `complete` for the whole
        resource: live records it covers that were not fetched again are tombstoned. `retire` names
        records the fetched ones replace under new ids (tombstoned too). `watermark`/`detail` update
        `sync_state` in the same transaction, so the watermark never runs ahead of the data.
        """
        counts = LandingCounts()
        now = utc_now_text()
        seen: set[str] = set()
        with self.transaction(self._window_lock(provider, resource)) as conn:
            for record in records:
                if record.record_id in seen:
                    raise ValueError(f"{provider}/{resource}: record {record.record_id!r} fetched twice in one window")
                seen.add(record.record_id)
                text = record.text if record.text is not None else canonical_json(record.payload)
                sha = hashlib.sha256(text.encode()).hexdigest()
                row = conn.execute(
                    "SELECT payload_sha256, deleted_at, day FROM records "
                    "WHERE person = ? AND provider = ? AND resource = ? AND record_id = ?",
                    (self.person, provider, resource, record.record_id),
                ).fetchone()
                if row is None:
                    conn.execute(
                        f"INSERT INTO records (person, {_RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                        (self.person, provider, resource, record.record_id, record.day, text, sha, now),
                    )
                    counts.new += 1
                    if record.day:
                        counts.days.add(record.day)
                elif row[1] is None and row[2] == record.day and (row[0] == sha or self._same_json(
                        conn, self.person, provider, resource, record.record_id, text)):
                    # the same payload, or the same JSON written differently (a copy another tool
                    # stored with its keys sorted and `70.0` as `70`): not a change
                    counts.unchanged += 1
                    if touch:
                        conn.execute("UPDATE records SET fetched_at = ? WHERE person = ? AND provider = ? "
                                     "AND resource = ? AND record_id = ?",
                                     (now, self.person, provider, resource, record.record_id))
                else:
                    conn.execute(
                        "UPDATE records SET day = ?, payload = ?, payload_sha256 = ?, fetched_at = ?, "
                        "deleted_at = NULL WHERE person = ? AND provider = ? AND resource = ? AND record_id = ?",
                        (record.day, text, sha, now, self.person, provider, resource, record.record_id),
                    )
                    counts.changed += 1
                    counts.days.update(d for d in (record.day, row[2]) if d)
            if window is not None or complete:
                gone = self._tombstone_missing(conn, self.person, provider, resource, window, seen, now)
                counts.deleted += len(gone)
                counts.days.update(d for d in gone if d)
            retired = [(now, self.person, provider, resource, rid) for rid in retire if rid not in seen]
            if retired:
                counts.days.update(day for *_, rid in retired for (day,) in conn.execute(
                    "SELECT day FROM records WHERE person = ? AND provider = ? AND resource = ? AND record_id = ? "
                    "AND deleted_at IS NULL AND day IS NOT NULL", (self.person, provider, resource, rid)))
                counts.deleted += conn.executemany(
                    "UPDATE records SET deleted_at = ? WHERE person = ? AND provider = ? "
                    "AND resource = ? AND record_id = ? AND deleted_at IS NULL", retired).rowcount
            if watermark is not None or detail is not None:
                self._set_sync_state(conn, self.person, provider, resource, watermark, detail, now)
        return counts

    @staticmethod
    def _same_json(conn: Connection, person: str, provider: str, resource: str, record_id: str,
                   text: str) -> bool:
        """Whether the stored payload is equal JSON to `text` (numbers compared by value)."""
        stored = conn.execute("SELECT payload FROM records WHERE person = ? AND provider = ? AND resource = ? "
                              "AND record_id = ?", (person, provider, resource, record_id)).fetchone()
        try:
            return stored is not None and json.loads(stored[0]) == json.loads(text)
        except ValueError:
            return False

    @staticmethod
    def _tombstone_missing(
        conn: Connection, person: str, provider: str, resource: str, window: tuple[date, date] | None,
        seen: set[str], now: str,
    ) -> list[str | None]:
        """Tombstone the live records of the window (or resource) not in `seen`; their days."""
        sql = ("SELECT record_id, day FROM records WHERE person = ? AND provider = ? AND resource = ? "
               "AND deleted_at IS NULL")
        params: tuple[str, ...] = (person, provider, resource)
        if window is not None:
            sql += " AND day BETWEEN ? AND ?"
            params += (window[0].isoformat(), window[1].isoformat())
        live = conn.execute(sql, params).fetchall()
        gone = [(rid, day) for rid, day in live if rid not in seen]
        conn.executemany(
            "UPDATE records SET deleted_at = ? WHERE person = ? AND provider = ? AND resource = ? AND record_id = ?",
            [(now, person, provider, resource, rid) for rid, _ in gone],
        )
        return [day for _, day in gone]

    def tombstone(self, provider: str, resource: str, record_ids: Iterable[str]) -> int:
        """Mark records deleted at the provider; returns how many live records were marked."""
        now = utc_now_text()
        rows = [(now, self.person, provider, resource, rid) for rid in record_ids]
        if not rows:
            return 0
        with self.transaction(self._window_lock(provider, resource)) as conn:
            return int(conn.executemany(
                "UPDATE records SET deleted_at = ? WHERE person = ? AND provider = ? AND resource = ? "
                "AND record_id = ? AND deleted_at IS NULL", rows).rowcount)

    def bury(self, provider: str, resource: str, deleted: Iterable[tuple[str, Any, str]]) -> int:
        """Tombstones for records deleted at the provider, landed or not: (record_id, payload, deleted_at).
        A live record is marked deleted then (its payload kept); one never landed is kept as a tombstone
        holding `payload` (what said it was deleted, e.g. an event). Returns how many were new or marked."""
        now = utc_now_text()
        marked = 0
        with self.transaction(self._window_lock(provider, resource)) as conn:
            for record_id, payload, deleted_at in deleted:
                key = (self.person, provider, resource, record_id)
                row = conn.execute("SELECT deleted_at FROM records WHERE person = ? AND provider = ? AND resource = ? "
                                   "AND record_id = ?", key).fetchone()
                if row is None:
                    text = canonical_json(payload)
                    conn.execute(f"INSERT INTO records (person, {_RECORD_COLUMNS}) VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?)",
                                 (*key, text, hashlib.sha256(text.encode()).hexdigest(), now, deleted_at))
                    marked += 1
                elif row[0] is None:
                    conn.execute("UPDATE records SET deleted_at = ? WHERE person = ? AND provider = ? AND resource = ? "
                                 "AND record_id = ?", (deleted_at, *key))
                    marked += 1
        return marked

    def records(
        self,
        provider: str,
        resource: str,
        *,
        start_day: date | None = None,
        end_day: date | None = None,
        include_deleted: bool = False,
    ) -> list[StoredRecord]:
        """Records of one resource, optionally limited to local days [start_day, end_day]."""
        sql = f"SELECT {_RECORD_COLUMNS} FROM records WHERE person = ? AND provider = ? AND resource = ?"
        params: list[Any] = [self.person, provider, resource]
        if start_day is not None:
            sql += " AND day >= ?"
            params.append(start_day.isoformat())
        if end_day is not None:
            sql += " AND day <= ?"
            params.append(end_day.isoformat())
        if not include_deleted:
            sql += " AND deleted_at IS NULL"
        sql += " ORDER BY day NULLS FIRST, record_id"  # SQLite's default, said for PostgreSQL
        with self.connection() as conn:
            return [StoredRecord(*row) for row in conn.execute(sql, params)]

    def due_follow_ups(self, provider: str, parent: str, child: str, limit: int | None = None) -> list[StoredRecord]:
        """Live records of `parent` whose `child` record (same id) is missing, tombstoned, or fetched before the
        parent last changed: what a follow-up still has to fetch, the most recent days first."""
        columns = ", ".join(f"p.{c}" for c in _RECORD_COLUMNS.split(", "))
        sql = (f"SELECT {columns} FROM records p LEFT JOIN records c ON c.person = p.person AND c.provider = p.provider "
               "AND c.resource = ? AND c.record_id = p.record_id WHERE p.person = ? AND p.provider = ? "
               "AND p.resource = ? AND p.deleted_at IS NULL "
               "AND (c.record_id IS NULL OR c.deleted_at IS NOT NULL OR c.fetched_at < p.fetched_at) "
               "ORDER BY p.day DESC NULLS LAST, p.record_id DESC")
        params: list[Any] = [child, self.person, provider, parent]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self.connection() as conn:
            return [StoredRecord(*row) for row in conn.execute(sql, params)]

    def days_where(self, provider: str, resource: str, json_path: str, values: Iterable[str], since: date,
                   until: date) -> list[date]:
        """The local days in [since, until] of live records whose payload holds one of `values` at `json_path`."""
        wanted = sorted(values)
        if not wanted:
            return []
        holds, held = self._db.json_value_in(json_path, wanted)
        with self.connection() as conn:
            rows = conn.execute(
                f"SELECT DISTINCT day FROM records WHERE person = ? AND provider = ? AND resource = ? "
                f"AND deleted_at IS NULL AND day BETWEEN ? AND ? AND {holds} ORDER BY day",
                [self.person, provider, resource, since.isoformat(), until.isoformat(), *held]).fetchall()
        return [date.fromisoformat(row[0]) for row in rows]

    def payload_values(self, provider: str, resources: Iterable[str], json_paths: Iterable[str]
                       ) -> list[tuple[Any, ...]]:
        """(resource, day, the value at each of `json_paths`, e.g. `$.a.b`) of every live record of the
        resources: JSON numbers and strings as Python's, None where a path is missing."""
        names, paths = sorted(resources), list(json_paths)
        if not names:
            return []
        values: list[str] = []
        params: list[Any] = []
        for path in paths:
            sql, held = self._db.json_value(path)
            values.append(sql)
            params += held
        with self.connection() as conn:
            return [tuple(row) for row in conn.execute(
                f"SELECT resource, day{''.join(', ' + v for v in values)} FROM records WHERE person = ? "
                f"AND provider = ? AND deleted_at IS NULL AND resource IN ({', '.join('?' for _ in names)})",
                [*params, self.person, provider, *names])]

    def orphans(self, provider: str, parent: str, child: str) -> list[str]:
        """Ids of live `child` records whose `parent` record is gone or tombstoned."""
        with self.connection() as conn:
            return [row[0] for row in conn.execute(
                "SELECT c.record_id FROM records c LEFT JOIN records p ON p.person = c.person "
                "AND p.provider = c.provider AND p.resource = ? AND p.record_id = c.record_id "
                "WHERE c.person = ? AND c.provider = ? AND c.resource = ? AND c.deleted_at IS NULL "
                "AND (p.record_id IS NULL OR p.deleted_at IS NOT NULL)", (parent, self.person, provider, child))]

    def day_span(self, provider: str, resources: Iterable[str]) -> tuple[date | None, date | None, int]:
        """The first and last local day of the resources' live records, and how many live records have no day."""
        names = sorted(resources)
        if not names:
            return None, None, 0
        marks = ", ".join("?" for _ in names)
        with self.connection() as conn:
            first, last, undated = conn.execute(
                f"SELECT min(day), max(day), count(*) FILTER (WHERE day IS NULL) FROM records "
                f"WHERE person = ? AND provider = ? AND resource IN ({marks}) AND deleted_at IS NULL",
                [self.person, provider, *names]).fetchone()
        return (date.fromisoformat(first) if first else None, date.fromisoformat(last) if last else None, int(undated))

    def first_day(self, providers: Iterable[str]) -> date | None:
        """The earliest local day of anyone's live record of `providers` (None: none, or no store yet:
        reading never creates one): where the shared daily partitions must start."""
        firsts: list[str] = []
        with self._db.peek() as conn:
            if conn is None:
                return None
            for provider in providers:  # per resource, so each minimum is read from the day index
                found = conn.execute("SELECT DISTINCT person, resource FROM records WHERE provider = ?",
                                     (provider,)).fetchall()
                for person, resource in found:
                    (first,) = conn.execute("SELECT min(day) FROM records WHERE person = ? AND provider = ? "
                                            "AND resource = ? AND deleted_at IS NULL",
                                            (person, provider, resource)).fetchone()
                    if first:
                        firsts.append(first)
        return date.fromisoformat(min(firsts)) if firsts else None

    def fingerprint(self, provider: str, resources: Iterable[str]) -> str:
        """A digest of the records' ids, payload hashes and tombstones: it changes iff they change."""
        digest = hashlib.sha256()
        with self.connection() as conn:
            for resource in sorted(resources):
                rows = conn.execute(
                    "SELECT record_id, payload_sha256, CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END FROM records "
                    "WHERE person = ? AND provider = ? AND resource = ? ORDER BY record_id",
                    (self.person, provider, resource))
                digest.update(resource.encode() + b"\x00")
                for record_id, sha, deleted in rows:
                    digest.update(f"{record_id}\x00{sha}\x00{deleted}\n".encode())
        return digest.hexdigest()

    # -- sync state --------------------------------------------------------------------------

    @staticmethod
    def _set_sync_state(
        conn: Connection, person: str, provider: str, resource: str, watermark: str | None,
        detail: dict[str, Any] | None, now: str,
    ) -> None:
        conn.execute(
            "INSERT INTO sync_state (person, provider, resource, watermark, detail, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (person, provider, resource) DO UPDATE SET "
            "watermark = coalesce(excluded.watermark, sync_state.watermark), "
            "detail = excluded.detail, updated_at = excluded.updated_at",
            (person, provider, resource, watermark, json.dumps(detail or {}, sort_keys=True), now),
        )

    def sync_state(self, provider: str, resource: str) -> tuple[str | None, dict[str, Any]] | None:
        """(watermark, detail) of one resource, or None if it never synced."""
        with self.connection() as conn:
            row = conn.execute(
                "SELECT watermark, detail FROM sync_state WHERE person = ? AND provider = ? AND resource = ?",
                (self.person, provider, resource),
            ).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def backlog(self) -> list[tuple[str, str, int, str | None]]:
        """(provider, resource, records still to fetch, when the quota that stopped it resets) of each
        follow-up a spent quota left unfinished (for `status`)."""
        with self.connection() as conn:
            rows = conn.execute("SELECT provider, resource, detail FROM sync_state WHERE person = ? "
                                "ORDER BY provider, resource", (self.person,)).fetchall()
        found = []
        for provider, resource, text in rows:
            detail = json.loads(text) if text else {}
            if isinstance(detail.get("left"), int) and detail["left"] > 0:
                found.append((provider, resource, detail["left"], detail.get("quota_resets_at")))
        return found

    def resource_summary(self) -> list[dict[str, Any]]:
        """Per (provider, resource): live and deleted counts, last fetch, watermark (for `status`)."""
        with self.connection() as conn:
            rows = conn.execute(
                """
                SELECT r.provider, r.resource,
                       count(*) FILTER (WHERE r.deleted_at IS NULL), count(*) FILTER (WHERE r.deleted_at IS NOT NULL),
                       max(r.fetched_at),
                       min(r.day), max(r.day), max(s.watermark)
                FROM records r LEFT JOIN sync_state s USING (person, provider, resource)
                WHERE r.person = ?
                GROUP BY r.provider, r.resource ORDER BY r.provider, r.resource
                """, (self.person,)
            ).fetchall()
        keys = ("provider", "resource", "live", "deleted", "last_fetched", "first_day", "last_day", "watermark")
        return [dict(zip(keys, row)) for row in rows]

    # -- OAuth tokens ------------------------------------------------------------------------

    def save_token(
        self,
        provider: str,
        *,
        access_token: str,
        refresh_token: str | None,
        token_type: str = "Bearer",
        scope: str | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        """Store a provider's token, replacing the previous one, in one transaction."""
        expires = expires_at.astimezone(timezone.utc).isoformat(timespec="seconds") if expires_at else None
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO oauth_tokens (person, provider, access_token, refresh_token, token_type, scope, "
                "expires_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (person, provider) DO UPDATE SET "
                "access_token = excluded.access_token, refresh_token = excluded.refresh_token, "
                "token_type = excluded.token_type, scope = excluded.scope, "
                "expires_at = excluded.expires_at, updated_at = excluded.updated_at",
                (self.person, provider, access_token, refresh_token, token_type, scope, expires, utc_now_text()),
            )

    def token(self, provider: str) -> StoredToken | None:
        """The stored token of a provider, or None."""
        with self.connection() as conn:
            row = conn.execute("SELECT provider, access_token, refresh_token, token_type, scope, expires_at, "
                               "updated_at FROM oauth_tokens WHERE person = ? AND provider = ?",
                               (self.person, provider)).fetchone()
        if row is None:
            return None
        expires = datetime.fromisoformat(row[5]) if row[5] else None
        return StoredToken(row[0], row[1], row[2], row[3], row[4], expires, row[6])

    # -- people ------------------------------------------------------------------------------

    def people(self) -> list[StoredPerson]:
        """Everyone listed in the store (every person, not only this store's), by id."""
        with self.connection() as conn:
            rows = conn.execute("SELECT person, cohort, timezone, start_date, sources, origin, added_at FROM people "
                                "ORDER BY person").fetchall()
        return [StoredPerson(p, c, tz, start, tuple(json.loads(src)) if src is not None else None, origin, added)
                for p, c, tz, start, src, origin, added in rows]

    def save_person(self, cohort: str, *, timezone: str | None = None, start_date: date | None = None,
                    sources: Iterable[str] | None = None, origin: str = "cli") -> StoredPerson:
        """List this store's person (or update their entry: the id stays, the rest is replaced)."""
        problem = person_id_problem(cohort)
        if problem:
            raise ValueError(problem.replace("person id", "cohort id"))
        listed = json.dumps(sorted(sources)) if sources is not None else None
        start = start_date.isoformat() if start_date else None
        now = utc_now_text()
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO people (person, cohort, timezone, start_date, sources, origin, added_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (person) DO UPDATE SET cohort = excluded.cohort, "
                "timezone = excluded.timezone, start_date = excluded.start_date, sources = excluded.sources, "
                "origin = excluded.origin", (self.person, cohort, timezone, start, listed, origin, now))
        return next(p for p in self.people() if p.person == self.person)

    def adopt_home(self, listed: Iterable[str] = ()) -> str | None:
        """Take over the single-person home after `[app] user` was changed: when this store's person owns
        nothing, exactly one other person owns data, and nobody is listed (`listed`: the config file's people;
        in `people`, only that person as migrated), that person's rows become this person's, in one
        transaction. Returns the old id (None: nothing renamed)."""
        if list(listed) or self.owns_data():  # the usual case, answered without reading every record
            return None
        with self.transaction(whole=True) as conn:
            owners = {p for (p,) in conn.execute("SELECT DISTINCT person FROM records UNION SELECT person FROM "
                                                 "sync_state UNION SELECT person FROM oauth_tokens")}
            if self.person in owners or len(owners) != 1:
                return None
            (old,) = owners
            entries = conn.execute("SELECT person, origin FROM people").fetchall()
            if any(person != old or origin != "migrated" for person, origin in entries):
                return None
            for table in ("records", "sync_state", "oauth_tokens", "people"):
                conn.execute(f"UPDATE {table} SET person = ? WHERE person = ?", (self.person, old))
            conn.execute("UPDATE people SET cohort = ? WHERE person = ?", (self.person, self.person))
        return old

    def owns_data(self) -> bool:
        """Whether this store's person owns a record, a sync state or a token (indexed probes: cheap at any size)."""
        with self.connection() as conn:
            return any(conn.execute(f"SELECT 1 FROM {table} WHERE person = ? LIMIT 1", (self.person,)).fetchone()
                       for table in ("records", "sync_state", "oauth_tokens"))

    def people_with_data(self) -> set[str]:
        """The ids that own a record, a sync state or a token (listed in `people` or not)."""
        with self.connection() as conn:
            return {p for (p,) in conn.execute(
                "SELECT DISTINCT person FROM records UNION SELECT person FROM sync_state "
                "UNION SELECT person FROM oauth_tokens")}

    def erase_person(self) -> Erased:
        """Delete every row of this store's person (records and tombstones, sync state, tokens, their
        entry in `people`), in one transaction; then (SQLite) reclaim the space so nothing of theirs stays
        in the file. On PostgreSQL the rows are gone for every reader at commit and their space is left to
        (auto)vacuum."""
        erased = Erased()
        with self.transaction() as conn:
            for table, attr in (("records", "records"), ("sync_state", "sync_states"), ("oauth_tokens", "tokens")):
                setattr(erased, attr, conn.execute(f"DELETE FROM {table} WHERE person = ?", (self.person,)).rowcount)
            erased.person = conn.execute("DELETE FROM people WHERE person = ?", (self.person,)).rowcount > 0
        self._db.reclaim()  # SQLite's freed pages still hold the deleted text until overwritten
        return erased
