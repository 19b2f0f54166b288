"""`[health_sync]`: where a health-sync database is, and whether to take its OAuth tokens."""

from typing import ClassVar

from pydantic import Field

from health_pipeline.settings import ImportConfig


class HealthSyncConfig(ImportConfig):
    """A health-sync SQLite file (`health.sqlite`; its `-wal` beside it is read too). Its tokens are
    taken only with `take_tokens` (or `--take-tokens`): Oura and Withings rotate refresh tokens, so a
    health-sync still running would lock one of the two programs out."""

    name: ClassVar[str] = "health_sync"
    title: ClassVar[str] = "health-sync database"
    path: str = Field("", description=(
        "A health-sync database to move over with `health-pipeline import health-sync` (or the import_health_sync "
        "asset): its health.sqlite (the -wal file beside it is read too)."))
    take_tokens: bool = Field(False, description=(
        "Also take its Oura and Withings tokens (stop health-sync first: refresh tokens rotate)."))
