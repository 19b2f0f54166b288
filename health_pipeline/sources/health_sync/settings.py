"""`[health_sync]`: where a health-sync database is, and whether to take its OAuth tokens."""

from typing import ClassVar

from health_pipeline.config import ImportConfig


class HealthSyncConfig(ImportConfig):
    """A health-sync SQLite file (`health.sqlite`; its `-wal` beside it is read too). Its tokens are
    taken only with `take_tokens` (or `--take-tokens`): Oura and Withings rotate refresh tokens, so a
    health-sync still running would lock one of the two programs out."""

    name: ClassVar[str] = "health_sync"
    take_tokens: bool = False
