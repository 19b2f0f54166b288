"""The SQLite raw store: provider JSON kept verbatim, the source of truth for everything above.

Tables (the user-facing contract in design.md):
  records(provider, resource, record_id, day, payload, payload_sha256, fetched_at, deleted_at)
  sync_state(provider, resource, watermark, detail, updated_at)
  oauth_tokens(provider, access_token, refresh_token, token_type, scope, expires_at, updated_at)
  schema_version(version, applied_at)

Every landed window is one transaction: a crash leaves either the old window or the new one.
The file is created with mode 0600 because it holds OAuth tokens.
"""

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    applied_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    provider        TEXT NOT NULL,
    resource        TEXT NOT NULL,
    record_id       TEXT NOT NULL,
    day             TEXT,
    payload         TEXT NOT NULL,
    payload_sha256  TEXT NOT NULL,
    fetched_at      TEXT NOT NULL,
    deleted_at      TEXT,
    PRIMARY KEY (provider, resource, record_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_by_day ON records (provider, resource, day);
CREATE TABLE IF NOT EXISTS sync_state (
    provider    TEXT NOT NULL,
    resource    TEXT NOT NULL,
    watermark   TEXT,
    detail      TEXT NOT NULL DEFAULT '{}',
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (provider, resource)
);
CREATE TABLE IF NOT EXISTS oauth_tokens (
    provider       TEXT PRIMARY KEY,
    access_token   TEXT NOT NULL,
    refresh_token  TEXT,
    token_type     TEXT NOT NULL DEFAULT 'Bearer',
    scope          TEXT,
    expires_at     TEXT,
    updated_at     TEXT NOT NULL
);
"""


class RawStoreError(Exception):
    """The raw store cannot be used (wrong schema, unreadable file)."""


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


def utc_now_text() -> str:
    """Now, as the ISO-8601 UTC text the store uses for every instant."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def canonical_json(payload: Any) -> str:
    """The payload as stored: the provider's JSON, compact, key order kept."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


class RawStore:
    """Reads and writes the raw store at `path`. Cheap to construct; opens connections per use."""

    def __init__(self, path: Path | str, *, person: str = "me") -> None:
        self.path = Path(path)
        self.person = person  # whose records and tokens these are (the single-person home: "me")

    # -- connections -------------------------------------------------------------------------

    def init(self) -> None:
        """Create the file (mode 0600) and the schema; safe to call again."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(self.path, 0o600)
        with closing(self._connect()) as conn:  # sqlite3's own context manager commits but never closes
            conn.executescript(_SCHEMA)
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
            current = row[0]
            if current is None:
                conn.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                    (SCHEMA_VERSION, utc_now_text()),
                )
            elif current > SCHEMA_VERSION:
                raise RawStoreError(
                    f"{self.path}: raw store schema version {current} is newer than this "
                    f"health-pipeline understands ({SCHEMA_VERSION}); upgrade health-pipeline"
                )
            conn.commit()

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as err:  # not a database, a folder, a file it may not read
            raise RawStoreError(f"{self.path}: cannot open the raw store: {err}") from None
        return conn

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A connection to an initialised store, closed afterwards."""
        if not self.path.exists():
            self.init()
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (taken at once, so writers queue instead of deadlocking)."""
        with self.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

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
        with self.transaction() as conn:
            for record in records:
                if record.record_id in seen:
                    raise ValueError(f"{provider}/{resource}: record {record.record_id!r} fetched twice in one window")
                seen.add(record.record_id)
                text = record.text if record.text is not None else canonical_json(record.payload)
                sha = hashlib.sha256(text.encode()).hexdigest()
                row = conn.execute(
                    "SELECT payload_sha256, deleted_at, day FROM records "
                    "WHERE provider = ? AND resource = ? AND record_id = ?",
                    (provider, resource, record.record_id),
                ).fetchone()
                if row is None:
                    conn.execute(
                        "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                        (provider, resource, record.record_id, record.day, text, sha, now),
                    )
                    counts.new += 1
                    if record.day:
                        counts.days.add(record.day)
                elif row[1] is None and row[2] == record.day and (row[0] == sha or self._same_json(
                        conn, provider, resource, record.record_id, text)):
                    # the same payload, or the same JSON written differently (a copy another tool
                    # stored with its keys sorted and `70.0` as `70`): not a change
                    counts.unchanged += 1
                    if touch:
                        conn.execute("UPDATE records SET fetched_at = ? WHERE provider = ? AND resource = ? "
                                     "AND record_id = ?", (now, provider, resource, record.record_id))
                else:
                    conn.execute(
                        "UPDATE records SET day = ?, payload = ?, payload_sha256 = ?, fetched_at = ?, "
                        "deleted_at = NULL WHERE provider = ? AND resource = ? AND record_id = ?",
                        (record.day, text, sha, now, provider, resource, record.record_id),
                    )
                    counts.changed += 1
                    counts.days.update(d for d in (record.day, row[2]) if d)
            if window is not None or complete:
                gone = self._tombstone_missing(conn, provider, resource, window, seen, now)
                counts.deleted += len(gone)
                counts.days.update(d for d in gone if d)
            retired = [(now, provider, resource, rid) for rid in retire if rid not in seen]
            if retired:
                counts.days.update(day for _, _, _, rid in retired for (day,) in conn.execute(
                    "SELECT day FROM records WHERE provider = ? AND resource = ? AND record_id = ? "
                    "AND deleted_at IS NULL AND day IS NOT NULL", (provider, resource, rid)))
                before = conn.total_changes
                conn.executemany("UPDATE records SET deleted_at = ? WHERE provider = ? AND resource = ? "
                                 "AND record_id = ? AND deleted_at IS NULL", retired)
                counts.deleted += conn.total_changes - before
            if watermark is not None or detail is not None:
                self._set_sync_state(conn, provider, resource, watermark, detail, now)
        return counts

    @staticmethod
    def _same_json(conn: sqlite3.Connection, provider: str, resource: str, record_id: str, text: str) -> bool:
        """Whether the stored payload is equal JSON to `text` (numbers compared by value)."""
        stored = conn.execute("SELECT payload FROM records WHERE provider = ? AND resource = ? AND record_id = ?",
                              (provider, resource, record_id)).fetchone()
        try:
            return stored is not None and json.loads(stored[0]) == json.loads(text)
        except ValueError:
            return False

    @staticmethod
    def _tombstone_missing(
        conn: sqlite3.Connection, provider: str, resource: str, window: tuple[date, date] | None,
        seen: set[str], now: str,
    ) -> list[str | None]:
        """Tombstone the live records of the window (or resource) not in `seen`; their days."""
        sql = "SELECT record_id, day FROM records WHERE provider = ? AND resource = ? AND deleted_at IS NULL"
        params: tuple[str, ...] = (provider, resource)
        if window is not None:
            sql += " AND day BETWEEN ? AND ?"
            params += (window[0].isoformat(), window[1].isoformat())
        live = conn.execute(sql, params).fetchall()
        gone = [(rid, day) for rid, day in live if rid not in seen]
        conn.executemany(
            "UPDATE records SET deleted_at = ? WHERE provider = ? AND resource = ? AND record_id = ?",
            [(now, provider, resource, rid) for rid, _ in gone],
        )
        return [day for _, day in gone]

    def tombstone(self, provider: str, resource: str, record_ids: Iterable[str]) -> int:
        """Mark records deleted at the provider; returns how many live records were marked."""
        now = utc_now_text()
        with self.transaction() as conn:
            before = conn.total_changes
            conn.executemany(
                "UPDATE records SET deleted_at = ? WHERE provider = ? AND resource = ? "
                "AND record_id = ? AND deleted_at IS NULL",
                [(now, provider, resource, rid) for rid in record_ids],
            )
            return conn.total_changes - before

    def bury(self, provider: str, resource: str, deleted: Iterable[tuple[str, Any, str]]) -> int:
        """Tombstones for records deleted at the provider, landed or not: (record_id, payload, deleted_at).
        A live record is marked deleted then (its payload kept); one never landed is kept as a tombstone
        holding `payload` (what said it was deleted, e.g. an event). Returns how many were new or marked."""
        now = utc_now_text()
        marked = 0
        with self.transaction() as conn:
            for record_id, payload, deleted_at in deleted:
                row = conn.execute("SELECT deleted_at FROM records WHERE provider = ? AND resource = ? AND record_id = ?",
                                   (provider, resource, record_id)).fetchone()
                if row is None:
                    text = canonical_json(payload)
                    conn.execute("INSERT INTO records VALUES (?, ?, ?, NULL, ?, ?, ?, ?)",
                                 (provider, resource, record_id, text, hashlib.sha256(text.encode()).hexdigest(),
                                  now, deleted_at))
                    marked += 1
                elif row[0] is None:
                    conn.execute("UPDATE records SET deleted_at = ? WHERE provider = ? AND resource = ? AND record_id = ?",
                                 (deleted_at, provider, resource, record_id))
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
        sql = "SELECT * FROM records WHERE provider = ? AND resource = ?"
        params: list[Any] = [provider, resource]
        if start_day is not None:
            sql += " AND day >= ?"
            params.append(start_day.isoformat())
        if end_day is not None:
            sql += " AND day <= ?"
            params.append(end_day.isoformat())
        if not include_deleted:
            sql += " AND deleted_at IS NULL"
        sql += " ORDER BY day, record_id"
        with self.connection() as conn:
            return [StoredRecord(*row) for row in conn.execute(sql, params)]

    def due_follow_ups(self, provider: str, parent: str, child: str, limit: int | None = None) -> list[StoredRecord]:
        """Live records of `parent` whose `child` record (same id) is missing, tombstoned, or fetched before the
        parent last changed: what a follow-up still has to fetch, the most recent days first."""
        sql = ("SELECT p.* FROM records p LEFT JOIN records c ON c.provider = p.provider AND c.resource = ? "
               "AND c.record_id = p.record_id WHERE p.provider = ? AND p.resource = ? AND p.deleted_at IS NULL "
               "AND (c.record_id IS NULL OR c.deleted_at IS NOT NULL OR c.fetched_at < p.fetched_at) "
               "ORDER BY p.day DESC, p.record_id DESC")
        params: list[Any] = [child, provider, parent]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self.connection() as conn:
            return [StoredRecord(*row) for row in conn.execute(sql, params)]

    def days_where(self, provider: str, resource: str, json_path: str, values: Iterable[str], since: date,
                   until: date) -> list[date]:
        """The local days in [since, until] of live records whose payload holds one of `values` at `json_path`."""
        wanted = sorted(values)
        marks = ", ".join("?" for _ in wanted)
        with self.connection() as conn:
            rows = conn.execute(
                f"SELECT DISTINCT day FROM records WHERE provider = ? AND resource = ? AND deleted_at IS NULL "
                f"AND day BETWEEN ? AND ? AND json_extract(payload, ?) IN ({marks}) ORDER BY day",
                [provider, resource, since.isoformat(), until.isoformat(), json_path, *wanted]).fetchall()
        return [date.fromisoformat(row[0]) for row in rows]

    def orphans(self, provider: str, parent: str, child: str) -> list[str]:
        """Ids of live `child` records whose `parent` record is gone or tombstoned."""
        with self.connection() as conn:
            return [row[0] for row in conn.execute(
                "SELECT c.record_id FROM records c LEFT JOIN records p ON p.provider = c.provider AND p.resource = ? "
                "AND p.record_id = c.record_id WHERE c.provider = ? AND c.resource = ? AND c.deleted_at IS NULL "
                "AND (p.record_id IS NULL OR p.deleted_at IS NOT NULL)", (parent, provider, child))]

    def day_span(self, provider: str, resources: Iterable[str]) -> tuple[date | None, date | None, int]:
        """The first and last local day of the resources' live records, and how many live records have no day."""
        names = sorted(resources)
        marks = ", ".join("?" for _ in names)
        with self.connection() as conn:
            first, last, undated = conn.execute(
                f"SELECT min(day), max(day), count(*) FILTER (WHERE day IS NULL) FROM records "
                f"WHERE provider = ? AND resource IN ({marks}) AND deleted_at IS NULL", [provider, *names]).fetchone()
        return (date.fromisoformat(first) if first else None, date.fromisoformat(last) if last else None, int(undated))

    def first_day(self, providers: Iterable[str]) -> date | None:
        """The earliest local day of a live record of `providers` (None: none, or no store yet: reading
        never creates one)."""
        if not self.path.exists():
            return None
        firsts: list[str] = []
        with closing(self._connect()) as conn:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'records'").fetchone() is None:
                return None
            for provider in providers:  # per resource, so each minimum is read from the day index
                resources = [r for (r,) in conn.execute("SELECT DISTINCT resource FROM records WHERE provider = ?",
                                                        (provider,))]
                for resource in resources:
                    (first,) = conn.execute("SELECT min(day) FROM records WHERE provider = ? AND resource = ? "
                                            "AND deleted_at IS NULL", (provider, resource)).fetchone()
                    if first:
                        firsts.append(first)
        return date.fromisoformat(min(firsts)) if firsts else None

    def fingerprint(self, provider: str, resources: Iterable[str]) -> str:
        """A digest of the records' ids, payload hashes and tombstones: it changes iff they change."""
        digest = hashlib.sha256()
        with self.connection() as conn:
            for resource in sorted(resources):
                rows = conn.execute(
                    "SELECT record_id, payload_sha256, deleted_at IS NOT NULL FROM records "
                    "WHERE provider = ? AND resource = ? ORDER BY record_id", (provider, resource))
                digest.update(resource.encode() + b"\x00")
                for record_id, sha, deleted in rows:
                    digest.update(f"{record_id}\x00{sha}\x00{deleted}\n".encode())
        return digest.hexdigest()

    # -- sync state --------------------------------------------------------------------------

    @staticmethod
    def _set_sync_state(
        conn: sqlite3.Connection, provider: str, resource: str, watermark: str | None,
        detail: dict[str, Any] | None, now: str,
    ) -> None:
        conn.execute(
            "INSERT INTO sync_state (provider, resource, watermark, detail, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (provider, resource) DO UPDATE SET "
            "watermark = coalesce(excluded.watermark, sync_state.watermark), "
            "detail = excluded.detail, updated_at = excluded.updated_at",
            (provider, resource, watermark, json.dumps(detail or {}, sort_keys=True), now),
        )

    def sync_state(self, provider: str, resource: str) -> tuple[str | None, dict[str, Any]] | None:
        """(watermark, detail) of one resource, or None if it never synced."""
        with self.connection() as conn:
            row = conn.execute(
                "SELECT watermark, detail FROM sync_state WHERE provider = ? AND resource = ?",
                (provider, resource),
            ).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def backlog(self) -> list[tuple[str, str, int, str | None]]:
        """(provider, resource, records still to fetch, when the quota that stopped it resets) of each
        follow-up a spent quota left unfinished (for `status`)."""
        with self.connection() as conn:
            rows = conn.execute("SELECT provider, resource, detail FROM sync_state ORDER BY provider, resource").fetchall()
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
                       sum(r.deleted_at IS NULL), sum(r.deleted_at IS NOT NULL), max(r.fetched_at),
                       min(r.day), max(r.day), s.watermark
                FROM records r LEFT JOIN sync_state s USING (provider, resource)
                GROUP BY r.provider, r.resource ORDER BY r.provider, r.resource
                """
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
                "INSERT INTO oauth_tokens VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (provider) DO UPDATE SET "
                "access_token = excluded.access_token, refresh_token = excluded.refresh_token, "
                "token_type = excluded.token_type, scope = excluded.scope, "
                "expires_at = excluded.expires_at, updated_at = excluded.updated_at",
                (provider, access_token, refresh_token, token_type, scope, expires, utc_now_text()),
            )

    def token(self, provider: str) -> StoredToken | None:
        """The stored token of a provider, or None."""
        with self.connection() as conn:
            row = conn.execute("SELECT * FROM oauth_tokens WHERE provider = ?", (provider,)).fetchone()
        if row is None:
            return None
        expires = datetime.fromisoformat(row[5]) if row[5] else None
        return StoredToken(row[0], row[1], row[2], row[3], row[4], expires, row[6])
