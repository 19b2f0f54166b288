"""Which OAuth profile each configured provider uses (`fitbit` is read through Google Health)."""

from health_pipeline.providers import google_health, oura, withings
from health_pipeline.providers.oauth import OAuthProfile

OAUTH_PROFILES: dict[str, OAuthProfile] = {
    "oura": oura.OAUTH,
    "fitbit": google_health.OAUTH,
    "withings": withings.OAUTH,
}
