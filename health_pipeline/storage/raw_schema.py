"""What the raw store's two backends (health_pipeline/storage/raw_sqlite.py, raw_postgres.py) agree on:
the schema version, the columns, how instants are written, the error they raise."""

from datetime import datetime, timezone

SCHEMA_VERSION = 2
RECORD_COLUMNS = "provider, resource, record_id, day, payload, payload_sha256, fetched_at, deleted_at"


class RawStoreError(Exception):
    """The raw store cannot be used (wrong schema, unreadable file, unreachable server)."""


def utc_now_text() -> str:
    """Now, as the ISO-8601 UTC text the store uses for every instant."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
