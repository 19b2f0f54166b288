"""Fitbit data through the Google Health API v4 (the legacy Fitbit Web API answers 410).

OAuth: Google's authorization-code flow with `access_type=offline` (or no refresh token is
issued) and `prompt=consent` (or a second consent returns none either); the minimal read scopes.
Users may grant only some scopes; the client skips data types whose scope was not granted.
"""

from health_pipeline.config import OAuthProviderConfig
from health_pipeline.providers.oauth import OAuthProfile

SCOPE_PREFIX = "https://www.googleapis.com/auth/googlehealth."
ACTIVITY_SCOPE = SCOPE_PREFIX + "activity_and_fitness.readonly"
METRICS_SCOPE = SCOPE_PREFIX + "health_metrics_and_measurements.readonly"
SLEEP_SCOPE = SCOPE_PREFIX + "sleep.readonly"
SETTINGS_SCOPE = SCOPE_PREFIX + "settings.readonly"

OAUTH = OAuthProfile(
    scopes=(ACTIVITY_SCOPE, METRICS_SCOPE, SLEEP_SCOPE, SETTINGS_SCOPE),
    authorize_params={"access_type": "offline", "prompt": "consent", "include_granted_scopes": "true"},
)

LEGACY_HOSTS = ("api.fitbit.com", "www.fitbit.com")


def check_not_legacy(config: OAuthProviderConfig) -> None:
    """Refuse a [fitbit] section still pointing at the retired Fitbit Web API."""
    from urllib.parse import urlsplit

    from health_pipeline.providers.errors import ProviderRetired

    for key in ("base_url", "authorize_url", "token_url"):
        host = urlsplit(getattr(config, key)).hostname or ""
        if host in LEGACY_HOSTS:
            raise ProviderRetired(
                "fitbit",
                f"[fitbit] {key} points at the legacy Fitbit Web API ({host}), retired in November 2026 "
                "(it answers 410 Gone); remove the [fitbit] URLs to use the Google Health API defaults "
                "and re-authorise with Google: `health-pipeline auth fitbit`",
            )
