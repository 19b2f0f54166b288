"""`[strava]`: the keys of Strava's config section and their defaults."""

from typing import ClassVar

from pydantic import Field

from health_pipeline.settings import OAuthProviderConfig, PositiveInt, Url


class StravaConfig(OAuthProviderConfig):
    """Strava's API v3, with an API application of your own (https://www.strava.com/settings/api; since
    2026 its owner needs a Strava subscription, and an application serves up to 10 athletes)."""

    name: ClassVar[str] = "strava"
    title: ClassVar[str] = "Strava"
    base_url: Url = "https://www.strava.com/api/v3"
    authorize_url: Url = "https://www.strava.com/oauth/authorize"
    token_url: Url = "https://www.strava.com/oauth/token"
    client_id: str = Field("", description=(
        "Your API application's Client ID (required when enabled); set its Authorization Callback Domain to the "
        "redirect URI's host."))
    requests_per_minute: PositiveInt = Field(100, description=(
        "Requests per minute this tool allows itself; Strava's quarter-hour and daily read limits below bind first."))
    read_limit_15min: PositiveInt = Field(100, description=(
        "Your application's read requests per 15 minutes (Strava's default 100; read from its answers too)."))
    read_limit_daily: PositiveInt = Field(1000, description=(
        "Your application's read requests per day, reset at midnight UTC (default 1,000). A history needing more "
        "is fetched over several days: each run lands what the quota allows and the next goes on."))
    streams: bool = Field(False, description=(
        "Also fetch each activity's streams (second-by-second heart rate, distance, position, ...): one more "
        "request per activity. Heart rate lands in the heart_rate table (source `activity`)."))
