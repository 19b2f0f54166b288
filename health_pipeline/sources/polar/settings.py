"""`[polar]`: the keys of Polar's config section and their defaults."""

from typing import ClassVar

from pydantic import Field

from health_pipeline.settings import OAuthProviderConfig, PositiveInt, Url


class PolarConfig(OAuthProviderConfig):
    """Polar AccessLink v3, with a client registered at https://admin.polaraccesslink.com (free)."""

    name: ClassVar[str] = "polar"
    title: ClassVar[str] = "Polar"
    base_url: Url = "https://www.polaraccesslink.com/v3"
    authorize_url: Url = "https://flow.polar.com/oauth2/authorization"
    token_url: Url = "https://polarremote.com/v2/oauth2/token"
    client_id: str = Field("", description=(
        "From your client at https://admin.polaraccesslink.com (required when enabled); register the redirect URI "
        "below with it."))
    member_id: str = Field("health-pipeline", description=(
        "The id this tool registers you under at Polar after authorising (`member-id`: any string of yours)."))
    requests_per_minute: PositiveInt = Field(100, description=(
        "Requests per minute this tool allows itself; Polar's own limits (500 + 20 per user a quarter hour, "
        "5,000 + 100 per user a day) are read from its answers."))
