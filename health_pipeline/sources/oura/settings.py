"""`[oura]`: the keys of Oura's config section and their defaults."""

from typing import ClassVar

from health_pipeline.config import OAuthProviderConfig, PositiveInt, Url


class OuraConfig(OAuthProviderConfig):
    """Oura's API v2, with an OAuth2 client registered at cloud.ouraring.com."""

    name: ClassVar[str] = "oura"
    base_url: Url = "https://api.ouraring.com"
    authorize_url: Url = "https://cloud.ouraring.com/oauth/authorize"
    token_url: Url = "https://api.ouraring.com/oauth/token"
    requests_per_minute: PositiveInt = 1000
