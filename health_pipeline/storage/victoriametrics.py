"""A small VictoriaMetrics client: health, retention, JSON-lines import, export, delete_series.

Facts it relies on (provider-apis.md §5, verified on 1.79.5): imports answer 204 even when the
server drops samples outside its retention; `/metrics` exposes the `retentionPeriod` flag;
`delete_series` removes a series over all time; `/internal/force_flush` makes imports visible.
"""

import json
import re
import time
from datetime import timedelta
from typing import Any

import requests

from health_pipeline.settings import LABEL_NAME, VictoriaMetricsConfig, redact_url


class VictoriaMetricsError(Exception):
    """VictoriaMetrics is unreachable or refused a request; the message says which and why."""


class VictoriaMetricsAuthError(VictoriaMetricsError):
    """VictoriaMetrics (or a proxy before it) refused the configured username and password."""


CONNECT_ATTEMPTS = 3

_RETENTION_FLAG = re.compile(r'^flag\{name="retentionPeriod", value="([^"]*)"', re.MULTILINE)
_UNIT_DAYS = {"h": 1 / 24, "d": 1, "w": 7, "y": 365}


def parse_retention(value: str) -> timedelta:
    """VictoriaMetrics' `-retentionPeriod`: a number with h/d/w/y, or bare months (31 days each)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([hdwy]?)\s*", value)
    if not match:
        raise VictoriaMetricsError(f"cannot understand the server's retentionPeriod {value!r}")
    number, unit = float(match.group(1)), match.group(2)
    return timedelta(days=number * (_UNIT_DAYS[unit] if unit else 31))


class VictoriaMetrics:
    """Talks to one VictoriaMetrics single-node server."""

    def __init__(self, config: VictoriaMetricsConfig) -> None:
        self.config = config
        self.url = config.url.rstrip("/")
        self.shown = redact_url(self.url)  # what messages name: never a password written into the URL
        self._session = requests.Session()
        if config.username:
            self._session.auth = (config.username, config.password.reveal())
        self._verify = config.tls_verify  # per request: a session's own `verify` yields to REQUESTS_CA_BUNDLE
        self.requests_made = 0

    def close(self) -> None:
        self._session.close()

    def _call(self, method: str, path: str, *, expect: tuple[int, ...], **kwargs: Any) -> requests.Response:
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            self.requests_made += 1
            try:
                response = self._session.request(method, self.url + path, timeout=self.config.timeout_s,
                                                 verify=self._verify, **kwargs)
                break
            except requests.exceptions.SSLError:
                raise VictoriaMetricsError(
                    f"VictoriaMetrics at {self.shown} presented a certificate that could not be verified; set "
                    "[victoriametrics] ca_bundle to the CA certificate that signed it (or verify_tls = false)"
                ) from None
            except requests.ConnectionError as err:
                # A refused connection is retried briefly (a restart); an import is not (it may have
                # been half taken: its series stay dirty and are rewritten by the next run).
                if attempt == CONNECT_ATTEMPTS or not isinstance(kwargs.get("data"), (dict, type(None))):
                    raise self._unreachable(err) from None
                time.sleep(0.5 * 2 ** (attempt - 1))
            except requests.RequestException as err:
                raise self._unreachable(err) from None
        if response.status_code not in expect:
            refused = response.status_code in (401, 403)
            hint = " (check [victoriametrics] username and password)" if refused else ""
            raise (VictoriaMetricsAuthError if refused else VictoriaMetricsError)(
                f"VictoriaMetrics at {self.shown} answered {method} {path} with HTTP {response.status_code}"
                f"{hint}: {response.text.strip()[:200]}"
            )
        return response

    def _unreachable(self, err: Exception) -> VictoriaMetricsError:
        return VictoriaMetricsError(
            f"cannot reach VictoriaMetrics at {self.shown} ({type(err).__name__}); is it running? "
            "Nothing was recorded as written: the next run sends everything still pending"
        )

    def health(self) -> None:
        """Raise unless `/health` answers OK."""
        self._call("GET", "/health", expect=(200,))

    def check_credentials(self) -> None:
        """Raise `VictoriaMetricsAuthError` unless the configured credentials are accepted.

        `/health` and `/metrics` answer without them, so this asks a cheap authenticated endpoint.
        """
        self._call("GET", "/api/v1/status/buildinfo", expect=(200,))

    def retention(self) -> timedelta:
        """The server's retention period, read from its own flags on `/metrics`."""
        text = self._call("GET", "/metrics", expect=(200,)).text
        match = _RETENTION_FLAG.search(text)
        if not match:
            raise VictoriaMetricsError(f"VictoriaMetrics at {self.shown} does not report its retentionPeriod flag")
        return parse_retention(match.group(1))

    def import_body(self, body: bytes) -> None:
        """POST newline-separated JSON lines (`{"metric", "values", "timestamps"}`) to `/api/v1/import`."""
        self._call("POST", "/api/v1/import", expect=(200, 204), data=body, headers={"Content-Type": "application/json"})

    def delete_series(self, selectors: str | list[str]) -> None:
        """Delete every sample of the series matching any of the selectors, over all time."""
        matches = [selectors] if isinstance(selectors, str) else list(selectors)
        self._call("POST", "/api/v1/admin/tsdb/delete_series", expect=(200, 204), data={"match[]": matches})

    def series(self, selector: str) -> list[dict[str, str]]:
        """The label sets of the series matching `selector`, over all time."""
        # over all time: VictoriaMetrics looks at the last day unless both ends are given (the end a day ahead:
        # daily samples are stamped at a midnight that may be ahead of UTC)
        window = {"start": 1, "end": int(time.time()) + 86_400}  # 1: VictoriaMetrics 1.79 reads 0 as unset
        answer = self._call("POST", "/api/v1/series", expect=(200,), data={"match[]": selector, **window}).json()
        return list(answer.get("data") or [])

    def force_flush(self) -> None:
        """Make just-imported samples searchable at once."""
        self._call("GET", "/internal/force_flush", expect=(200,))

    def export(self, selector: str, start_ms: int | None = None, end_ms: int | None = None) -> list[dict[str, Any]]:
        """Raw samples of the matching series, as `/api/v1/export` JSON lines."""
        params: dict[str, Any] = {"match[]": selector}
        if start_ms is not None:
            params["start"] = start_ms / 1000
        if end_ms is not None:
            params["end"] = end_ms / 1000
        text = self._call("POST", "/api/v1/export", expect=(200,), data=params).text
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def series_selector(labels: dict[str, str]) -> str:
    """An exact PromQL selector for one series, e.g. `health_steps{provider="oura",user="me"}`.

    A label whose name PromQL cannot spell (`é`: an import took it, from a release that did not
    check `extra_labels`) is left out, so the series can still be deleted: the selector then
    matches its siblings too, which is safe where it is used, a relabelling export, since that
    deletes every old series before importing the new ones."""
    name = labels["__name__"]
    matchers = ",".join(
        f'{key}="{_escape(value)}"' for key, value in sorted(labels.items())
        if key != "__name__" and LABEL_NAME.fullmatch(key)
    )
    return f"{name}{{{matchers}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
