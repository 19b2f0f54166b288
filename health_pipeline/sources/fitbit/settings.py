"""`[fitbit]`: the keys of the Fitbit section (read through the Google Health API) and their defaults."""

from typing import ClassVar

from health_pipeline.config import OAuthProviderConfig, PositiveInt, Url


class FitbitConfig(OAuthProviderConfig):
    """Fitbit data through the Google Health API v4, with a Google Cloud OAuth client."""

    name: ClassVar[str] = "fitbit"
    base_url: Url = "https://health.googleapis.com"
    authorize_url: Url = "https://accounts.google.com/o/oauth2/v2/auth"
    token_url: Url = "https://oauth2.googleapis.com/token"
    requests_per_minute: PositiveInt = 300
    heart_rate_samples: bool = False  # raw heart-rate samples (`fitbit_heart_rate_samples`), heavy
