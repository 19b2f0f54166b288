"""Withings Health API (`wbsapi`).

OAuth: the authorization code lives 30 seconds, so it is exchanged the moment it arrives; token
calls are `action=requesttoken` and answer `{status, body}` inside HTTP 200 (unwrapped for
requests-oauthlib by a compliance hook); refresh tokens rotate. Scopes are comma-separated.
Withings refuses `localhost` and IP redirect URIs: use a redirect page you host and `--manual`.
"""

from health_pipeline.providers.oauth import OAuthProfile, unwrap_withings_envelope

OAUTH = OAuthProfile(
    scopes=("user.info", "user.metrics", "user.activity", "user.sleepevents"),
    scope_separator=",",
    token_params={"action": "requesttoken"},
    unwrap=unwrap_withings_envelope,
)
