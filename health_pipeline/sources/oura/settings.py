"""`[oura]`: the keys of Oura's config section and their defaults."""

from typing import ClassVar

from pydantic import Field

from health_pipeline.settings import OAuthProviderConfig, PositiveInt, Url


class OuraConfig(OAuthProviderConfig):
    """Oura's API v2, with an OAuth2 client registered at cloud.ouraring.com."""

    name: ClassVar[str] = "oura"
    title: ClassVar[str] = "Oura"
    base_url: Url = "https://api.ouraring.com"
    authorize_url: Url = "https://cloud.ouraring.com/oauth/authorize"
    token_url: Url = "https://api.ouraring.com/oauth/token"
    client_id: str = Field("", description=(
        "From your application at https://cloud.ouraring.com/oauth/applications (required when enabled)."))
    requests_per_minute: PositiveInt = Field(1000, description=(
        "Requests per minute this tool allows itself (Oura publishes no numbers; 5000 per 5 minutes is the usual "
        "figure)."))
