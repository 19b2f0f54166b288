"""Hevy public API v1: the `api-key` header, `page`/`pageSize` paging (10 at most; 100 for
exercise templates), `{"error": ...}` bodies, and `supersets_id` in responses."""

from typing import Any

import requests

from health_pipeline.config import HevyConfig
from health_pipeline.providers.errors import BadRequest, MalformedResponse, ReauthorizationNeeded
from health_pipeline.providers.http import ProviderHTTP

PROVIDER = "hevy"


class HevyClient:
    """Reads one Hevy account."""

    def __init__(self, config: HevyConfig, http: ProviderHTTP | None = None) -> None:
        self.config = config
        self.http = http or ProviderHTTP(PROVIDER)

    @property
    def requests_made(self) -> int:
        return self.http.requests_made

    def user_info(self) -> dict[str, Any]:
        """The account behind the key: one cheap call that proves the key works."""
        data = self._get("/v1/user/info").get("data")
        if not isinstance(data, dict):
            raise MalformedResponse(PROVIDER, "/v1/user/info: the answer has no `data` object")
        return data

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        url = self.config.base_url.rstrip("/") + path
        response = self.http.request("GET", url, params=params, headers={"api-key": self.config.api_key.reveal()})
        return _decode(path, response)


def _decode(path: str, response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code == 200:
        if not isinstance(body, dict):
            raise MalformedResponse(PROVIDER, f"{path}: the answer is not a JSON object")
        return body
    message = body.get("error") if isinstance(body, dict) else response.reason
    if response.status_code in (401, 403):
        raise ReauthorizationNeeded(
            PROVIDER, "the API key was refused (check [hevy] api_key or HEALTH_PIPELINE_HEVY_API_KEY; keys come "
            "from hevy.com/settings?developer and need Hevy Pro)"
        )
    raise BadRequest(PROVIDER, f"{path}: HTTP {response.status_code}: {message}")
