"""`[whoop]`: the keys of WHOOP's config section and their defaults."""

from typing import ClassVar

from pydantic import Field

from health_pipeline.settings import OAuthProviderConfig, PositiveInt, Url


class WhoopConfig(OAuthProviderConfig):
    """WHOOP's developer API v2, with an app registered by a WHOOP member at developer-dashboard.whoop.com."""

    name: ClassVar[str] = "whoop"
    title: ClassVar[str] = "WHOOP"
    base_url: Url = "https://api.prod.whoop.com/developer"
    authorize_url: Url = "https://api.prod.whoop.com/oauth/oauth2/auth"
    token_url: Url = "https://api.prod.whoop.com/oauth/oauth2/token"
    client_id: str = Field("", description=(
        "From your app at https://developer-dashboard.whoop.com (required when enabled); register the redirect URI "
        "below with it."))
    requests_per_minute: PositiveInt = Field(100, description=(
        "Requests per minute this tool allows itself (WHOOP: 100 a minute and 10,000 a day per app; both are "
        "also read from its answers)."))
