"""A small threaded HTTP server for the fake providers, with a request log tests can read."""

import base64
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from health_pipeline.sandbox.faults import FaultInjector


@dataclass(frozen=True)
class Request:
    """One incoming request, decoded: path below the provider prefix, query and form merged."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""

    @property
    def body_text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def param(self, name: str) -> str | None:
        """A parameter from the form body or the query string (Withings accepts both)."""
        return self.form.get(name, self.query.get(name))

    def bearer_token(self) -> str | None:
        auth = self.header("authorization") or ""
        scheme, _, token = auth.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def basic_auth(self) -> tuple[str, str] | None:
        auth = self.header("authorization") or ""
        scheme, _, encoded = auth.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return None
        return user, password


@dataclass
class Response:
    """What a fake endpoint answers."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> "Response":
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, body, {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def redirect(cls, location: str) -> "Response":
        return cls(302, b"", {"Location": location})

    @classmethod
    def html(cls, status: int, text: str) -> "Response":
        return cls(status, text.encode(), {"Content-Type": "text/html; charset=UTF-8"})


@dataclass(frozen=True)
class LoggedRequest:
    """One entry of the request log: enough to count and audit what a client asked for."""

    provider: str
    method: str
    path: str
    params: dict[str, str]
    status: int  # 0 when the connection was dropped without an answer
    fault: str | None = None
    body: Any = None  # a JSON request body (rollups), secrets never included
    person: str | None = None  # whose app answered (None: no provider under that prefix, or a bad login_hint)


class ProviderApp(Protocol):
    """A fake provider mounted under one prefix, for one person. `oauth` says which codes and tokens it
    `issued(credential)`; an optional `for_person(world)` builds the app of another person sharing what
    is the app's rather than the person's (see `people.py`)."""

    oauth: Any

    def __call__(self, request: Request) -> Response: ...

    def rate_limited(self, retry_after: int | None) -> Response:
        """The provider's own answer to a client over its rate limit."""
        ...


class Mount(Protocol):
    """A provider's prefix: which person a request is for, and the app that answers them."""

    def route(self, request: Request) -> tuple[str, ProviderApp]:
        """Raises ValueError when the request names no valid person."""
        ...


class RequestLog:
    """Thread-safe list of the requests served, for tests and benchmarks (no secrets kept)."""

    def __init__(self) -> None:
        self._entries: list[LoggedRequest] = []
        self._lock = threading.Lock()

    def add(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self, provider: str | None = None, path_contains: str = "") -> list[LoggedRequest]:
        with self._lock:
            return [
                e for e in self._entries
                if (provider is None or e.provider == provider) and path_contains in e.path
            ]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_SECRET_PARAMS = {"client_secret", "code", "refresh_token", "access_token", "signature", "nonce"}


class SandboxHTTPServer(ThreadingHTTPServer):
    """Routes `/<prefix>/...` to the provider mounted under that prefix, and there to the person's app."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], mounts: dict[str, Mount], log: RequestLog, faults: FaultInjector
    ) -> None:
        self.mounts = mounts
        self.log = log
        self.faults = faults
        super().__init__(address, _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        """Silence the stdlib's stderr access log; the request log is the record."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _respond(self, prefix: str, app: ProviderApp | None, request: Request, fault: str | None) -> Response:
        if app is None:
            return Response.html(404, "<html><body><h1>404 Not Found</h1></body></html>")
        if fault == "5xx":
            return Response.html(503, "<html><body><h1>503 Service Unavailable</h1></body></html>")
        if fault in ("429", "429-bare"):
            return app.rate_limited(1 if fault == "429" else None)
        if fault == "slow":
            plan = self.server.faults.plan(prefix)
            time.sleep(plan.slow_s if plan else 2.0)  # the fault itself: a slow server
        if fault == "expire":
            app.oauth.expire_access_tokens()
        if fault == "revoke":
            app.oauth.revoke_all()
        try:
            response = app(request)
        except Exception as err:  # a sandbox bug must show up as a 500, not a hung client
            response = Response.json(500, {"detail": f"sandbox error: {type(err).__name__}: {err}"})
        if fault == "malformed" and response.body:
            response = Response(response.status, response.body[: max(1, len(response.body) // 2)], response.headers)
        return response

    def _drop_connection(self) -> None:
        """Close the socket with a TCP reset, answering nothing."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        prefix, _, rest = url.path.lstrip("/").partition("/")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        form: dict[str, str] = {}
        if body and "application/x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
            form = _single_values(parse_qs(body.decode(), keep_blank_values=True))
        request = Request(
            method=method,
            path="/" + rest,
            query=_single_values(parse_qs(url.query, keep_blank_values=True)),
            form=form,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        mount = self.server.mounts.get(prefix)
        person: str | None = None
        app: ProviderApp | None = None
        refusal: Response | None = None
        if mount is not None:
            try:
                person, app = mount.route(request)
            except ValueError as err:
                refusal = Response.json(400, {"error": "invalid_request", "error_description": str(err)})
        fault = self.server.faults.next_fault(prefix, request.path) if app is not None else None
        rewrite = (self.server.faults.next_rewrite(prefix, request.path, request.param)
                   if app is not None and fault is None else None)
        fault = "rewrite" if rewrite is not None else fault
        params = {k: ("<redacted>" if k in _SECRET_PARAMS else v) for k, v in {**request.query, **form}.items()}
        json_body = _json_or_none(body) if "json" in (self.headers.get("Content-Type") or "") else None

        def log(status: int) -> None:
            self.server.log.add(LoggedRequest(prefix, method, request.path, params, status, fault, json_body, person))

        if fault in ("reset", "timeout"):
            log(0)
            if fault == "timeout":
                plan = self.server.faults.plan(prefix)
                time.sleep(plan.hang_s if plan else 5.0)  # the fault itself: a server that stops answering
            self._drop_connection()
            return
        response = refusal if refusal is not None else self._respond(prefix, app, request, fault)
        if rewrite is not None:
            response = rewrite(response)
        log(response.status)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(response.body)


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _single_values(parsed: dict[str, list[str]]) -> dict[str, str]:
    return {key: values[-1] for key, values in parsed.items()}
