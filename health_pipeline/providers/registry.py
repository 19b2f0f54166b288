"""Per-provider lookups: the OAuth profile each uses (`fitbit` is read through Google Health), endpoints."""

from health_pipeline.sources.fitbit import client as google_health
from health_pipeline.sources.hevy import client as hevy
from health_pipeline.sources.oura import client as oura
from health_pipeline.sources.withings import client as withings
from health_pipeline.providers.oauth import OAuthProfile

OAUTH_PROFILES: dict[str, OAuthProfile] = {
    "oura": oura.OAUTH,
    "fitbit": google_health.OAUTH,
    "withings": withings.OAUTH,
}

# Withings' optional dense data: resource -> (path, action)
_WITHINGS_DENSE = {"intraday": ("/v2/measure", "getintradayactivity"), "sleep_hf": ("/v2/sleep", "get")}
_GOOGLE_VERBS = {"dailyRollUp": ("POST", ":dailyRollUp"), "rollUp": ("POST", ":rollUp"), "list": ("GET", "")}


def endpoint_of(provider: str, resource: str) -> str:
    """The provider request a stored resource comes from, e.g. `GET /v2/usercollection/sleep` (for lineage)."""
    if provider == "oura":
        return f"GET {oura.CATALOGUE[resource].path}"
    if provider == "fitbit":
        endpoint = google_health.CATALOGUE.get(resource) or google_health.OPTIONAL[resource]
        method, verb = _GOOGLE_VERBS[endpoint.method]
        return f"{method} /v4/users/me/dataTypes/{endpoint.path_type}/dataPoints{verb}"
    if provider == "withings":
        found = withings.CATALOGUE.get(resource)
        path, action = (found.path, found.action) if found else _WITHINGS_DENSE[resource]
        return f"POST {path} action={action}"
    if provider == "hevy":
        return f"GET {hevy.CATALOGUE[resource].path} (kept current by GET /v1/workouts/events)"
    raise KeyError(provider)
