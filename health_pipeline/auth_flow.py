"""`health-pipeline auth PROVIDER`: the authorization-code flow from a terminal.

The callback server listens on loopback only, on the port of the configured `redirect_uri`,
and accepts exactly one redirect whose `state` matches the random one we sent. `--manual` is for
redirect URIs that cannot point at this machine (Withings refuses localhost): the user pastes
the URL the browser was sent to. The code is exchanged at once (Withings codes live 30 s).
"""

import ipaddress
import secrets
import threading
import webbrowser
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.storage.raw_store import StoredToken

DEFAULT_TIMEOUT_S = 300.0


class AuthFlowError(Exception):
    """The authorization did not complete; the message says why and what to do."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def code_from_redirect(url: str, state: str, provider: str) -> str:
    """The authorization code in a redirect URL, after checking its `state`."""
    query = parse_qs(urlsplit(url.strip()).query)
    if "error" in query:
        raise AuthFlowError(f"{provider} refused the authorization: {query['error'][0]}")
    if query.get("state", [""])[0] != state:
        raise AuthFlowError(
            f"{provider}: the redirect's state does not match the one sent (a stale or forged "
            "redirect); run the command again"
        )
    if "code" not in query:
        raise AuthFlowError(f"{provider}: the redirect carries no `code`; paste the full URL from the address bar")
    return query["code"][0]


def granted_scope(url: str) -> str | None:
    """The scopes a redirect says were granted (Strava and WHOOP name them there; Strava's token answer
    does not, and a person may untick some on its consent page), or None."""
    found = parse_qs(urlsplit(url.strip()).query).get("scope")
    return found[0] if found else None


class _CallbackServer(HTTPServer):
    """Waits for one redirect to `path`, then stops."""

    def __init__(self, port: int, path: str) -> None:
        self.path = path or "/"
        self.redirect_url: str | None = None
        self.done = threading.Event()
        super().__init__(("127.0.0.1", port), _CallbackHandler)


class _CallbackHandler(BaseHTTPRequestHandler):
    server: _CallbackServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        """The query holds the authorization code: never log it."""

    def do_GET(self) -> None:
        if urlsplit(self.path).path != self.server.path:
            self.send_error(404)
            return
        self.server.redirect_url = f"http://127.0.0.1{self.path}"
        body = (b"<html><body><h1>health-pipeline</h1><p>Authorization received. You can close this "
                b"window and return to the terminal.</p></body></html>")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.done.set()


def authorize(
    tokens: OAuthTokens,
    *,
    open_browser: bool = True,
    manual: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    say: Callable[[str], None] = print,
    ask: Callable[[str], str] = input,
    login_hint: str | None = None,
) -> StoredToken:
    """Run the flow for one provider and store the tokens it yields (`login_hint`: the account to sign in
    with, sent as OpenID Connect's `login_hint`; the sandbox opens that person's world)."""
    provider = tokens.provider
    state = secrets.token_urlsafe(24)
    url = tokens.authorization_url(state, **({"login_hint": login_hint} if login_hint else {}))
    redirect = urlsplit(tokens.config.redirect_uri)
    if manual:
        say(f"Open this URL, approve access, then paste the URL your browser ends up on:\n\n  {url}\n")
        pasted = ask("Redirected URL: ")
        return tokens.exchange_code(code_from_redirect(pasted, state, provider), granted=granted_scope(pasted))
    if not is_loopback(redirect.hostname or ""):
        raise AuthFlowError(
            f"[{provider}] redirect_uri {tokens.config.redirect_uri} is not on this machine, so the callback "
            "cannot be caught here; run again with --manual and paste the redirected URL"
        )
    port = redirect.port or 80
    try:
        server = _CallbackServer(port, redirect.path)
    except OSError as err:
        raise AuthFlowError(f"cannot listen on 127.0.0.1:{port} for the callback ({err.strerror}); "
                            "free the port or change redirect_uri") from None
    thread = threading.Thread(target=server.serve_forever, name="oauth-callback", daemon=True)
    thread.start()
    try:
        say(f"Open this URL to authorise health-pipeline with {provider}:\n\n  {url}\n")
        if open_browser:
            webbrowser.open(url)
        say(f"Waiting for the redirect to {tokens.config.redirect_uri} ...")
        if not server.done.wait(timeout_s):
            raise AuthFlowError(f"no redirect arrived within {timeout_s:.0f} s; run the command again")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert server.redirect_url is not None
    return tokens.exchange_code(code_from_redirect(server.redirect_url, state, provider),
                                granted=granted_scope(server.redirect_url))
