"""`[hevy]`: the keys of Hevy's config section and their defaults."""

from typing import ClassVar

from health_pipeline.config import ApiKeyProviderConfig, PositiveInt, Url


class HevyConfig(ApiKeyProviderConfig):
    """Hevy's public API, with the per-account API key of a Hevy Pro account."""

    name: ClassVar[str] = "hevy"
    base_url: Url = "https://api.hevyapp.com"
    requests_per_minute: PositiveInt = 120
