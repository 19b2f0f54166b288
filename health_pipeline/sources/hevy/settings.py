"""`[hevy]`: the keys of Hevy's config section and their defaults."""

from typing import ClassVar

from pydantic import Field

from health_pipeline.settings import ApiKeyProviderConfig, PositiveInt, Secret, SecretStr, Url


class HevyConfig(ApiKeyProviderConfig):
    """Hevy's public API, with the per-account API key of a Hevy Pro account."""

    name: ClassVar[str] = "hevy"
    title: ClassVar[str] = "Hevy"
    base_url: Url = "https://api.hevyapp.com"
    api_key: SecretStr = Field(Secret(""), description=(
        "From https://hevy.com/settings?developer (Hevy Pro); required when enabled."))
    requests_per_minute: PositiveInt = Field(120, description=(
        "Requests per minute this tool allows itself (Hevy documents no limit: be gentle)."))
