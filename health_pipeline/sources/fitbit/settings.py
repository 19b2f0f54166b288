"""`[fitbit]`: the keys of the Fitbit section (read through the Google Health API) and their defaults."""

from typing import ClassVar

from pydantic import Field

from health_pipeline.settings import OAuthProviderConfig, PositiveInt, Url


class FitbitConfig(OAuthProviderConfig):
    """Fitbit data through the Google Health API v4, with a Google Cloud OAuth client."""

    name: ClassVar[str] = "fitbit"
    title: ClassVar[str] = "Fitbit"
    base_url: Url = "https://health.googleapis.com"
    authorize_url: Url = "https://accounts.google.com/o/oauth2/v2/auth"
    token_url: Url = "https://oauth2.googleapis.com/token"
    client_id: str = Field("", description=(
        "From your Google Cloud project's OAuth client, with the Google Health API enabled (required when enabled)."))
    requests_per_minute: PositiveInt = Field(300, description=(
        "Requests per minute this tool allows itself (Google Health: 300 per minute per user)."))
    heart_rate_samples: bool = Field(False, description=(
        "Also land raw heart-rate samples (up to one a second; heavy) besides the per-minute roll-up."))
