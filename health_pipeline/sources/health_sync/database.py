"""Reading a health-sync SQLite database (../shared/reference/health-sync-db.md), either schema: the
Python release (tokens in `oauth_tokens`, provider strings kept as sent, Withings epochs as decimal
strings) and the Node release (every time normalised to UTC `…Z`, payload keys sorted, tokens moved to
`.health-sync.creds` beside the database). The tables are the same; `sync_runs` may be missing.

The file is opened read-only through SQLite (so a WAL beside it is replayed, and nothing is written).
"""

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

CREDS_FILE = ".health-sync.creds"
Schema = Literal["python", "node"]


class DatabaseError(Exception):
    """The file is not a readable health-sync database: one line naming it."""


@dataclass(frozen=True)
class Row:
    """One `records` row, its payload parsed."""

    provider: str
    resource: str
    record_id: str
    payload: Any
    fetched_at: str


@dataclass(frozen=True)
class Token:
    """A stored OAuth token (the repr hides the token text)."""

    provider: str
    access_token: str
    refresh_token: str | None
    token_type: str
    scope: str | None
    expires_at: datetime | None

    def __repr__(self) -> str:
        return f"Token(provider={self.provider!r}, expires_at={self.expires_at!r}, access_token=<hidden>)"


def parse_instant(text: Any) -> datetime | None:
    """A health-sync time (ISO with `Z` or an offset, a bare date, or epoch seconds as digits), in UTC."""
    if text is None:
        return None
    value = str(text).strip()
    if not value:
        return None
    try:
        if re.fullmatch(r"\d+", value):
            return datetime.fromtimestamp(int(value), timezone.utc)
        found = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    return found if found.tzinfo else found.replace(tzinfo=timezone.utc)


class HealthSyncDatabase:
    """An opened health-sync database."""

    def __init__(self, path: Path) -> None:
        self.path = path.expanduser()
        if not self.path.is_file():
            raise DatabaseError(f"{self.path}: no such file")
        try:
            self.conn = sqlite3.connect(f"file:{self.path.absolute()}?mode=ro", uri=True)
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as err:
            raise DatabaseError(f"{self.path}: not a SQLite database ({err})") from None
        missing = {"records", "sync_state"} - tables
        if missing:
            self.conn.close()
            raise DatabaseError(f"{self.path}: not a health-sync database (no {', '.join(sorted(missing))} table)")
        self.tables = tables

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "HealthSyncDatabase":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema(self) -> Schema:
        """Which release wrote it: Python keeps bare dates and epoch strings, Node normalises every time."""
        python = self.conn.execute(
            "SELECT 1 FROM records WHERE start_time GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' "
            "OR source_updated_at GLOB '[0-9]*' AND source_updated_at NOT GLOB '*[^0-9]*' LIMIT 1").fetchone()
        if python:
            return "python"
        tokens = self.conn.execute("SELECT count(*) FROM oauth_tokens").fetchone()[0] if "oauth_tokens" in self.tables else 0
        return "python" if tokens else "node"

    def resources(self) -> list[tuple[str, str, int]]:
        """(provider, resource, rows) of every resource in the file."""
        return self.conn.execute("SELECT provider, resource, count(*) FROM records GROUP BY 1, 2 ORDER BY 1, 2").fetchall()

    def rows(self, provider: str, resource: str) -> Iterator[Row]:
        """The resource's rows; a payload that is not JSON raises `DatabaseError` naming the row."""
        for record_id, payload, fetched_at in self.conn.execute(
                "SELECT record_id, payload_json, fetched_at FROM records WHERE provider = ? AND resource = ? "
                "ORDER BY record_id", (provider, resource)):
            try:
                parsed = json.loads(payload)
            except (TypeError, json.JSONDecodeError) as err:
                raise DatabaseError(f"{self.path}: {provider}/{resource} record {record_id!r}: payload_json is not "
                                    f"JSON ({err})") from None
            yield Row(provider, resource, str(record_id), parsed, fetched_at)

    def watermark(self, provider: str, resource: str) -> datetime | None:
        row = self.conn.execute("SELECT watermark FROM sync_state WHERE provider = ? AND resource = ?",
                                (provider, resource)).fetchone()
        return parse_instant(row[0]) if row else None

    def synced_at(self, provider: str, resource: str) -> datetime | None:
        """When health-sync last synced the resource whole (`sync_state.updated_at`, written in the
        transaction that landed its records), whatever its watermark means."""
        row = self.conn.execute("SELECT updated_at FROM sync_state WHERE provider = ? AND resource = ?",
                                (provider, resource)).fetchone()
        return parse_instant(row[0]) if row else None

    def newest_fetch(self, provider: str, resource: str) -> datetime | None:
        """The newest `fetched_at` of the resource's rows: how recent the database's copy of it is."""
        found = [parse_instant(text) for (text,) in self.conn.execute(
            "SELECT DISTINCT fetched_at FROM records WHERE provider = ? AND resource = ?", (provider, resource))]
        return max(filter(None, found), default=None)

    def tokens(self) -> dict[str, Token]:
        """The OAuth tokens: `oauth_tokens` (Python), else `.health-sync.creds` beside the file (Node)."""
        found: dict[str, Token] = {}
        if "oauth_tokens" in self.tables:
            for provider, access, refresh, kind, scope, expires in self.conn.execute(
                    "SELECT provider, access_token, refresh_token, token_type, scope, expires_at FROM oauth_tokens"):
                found[provider] = Token(provider, access, refresh, kind or "Bearer", scope, parse_instant(expires))
        creds = self.path.parent / CREDS_FILE
        if creds.is_file():
            try:
                document = json.loads(creds.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
                raise DatabaseError(f"{creds}: not a readable health-sync credentials file ({err})") from None
            for provider, token in (document.get("tokens") or {}).items():
                if isinstance(token, dict) and token.get("accessToken"):
                    found[provider] = Token(provider, token["accessToken"], token.get("refreshToken"),
                                            token.get("tokenType") or "Bearer", token.get("scope"),
                                            parse_instant(token.get("expiresAt")))
        return found
