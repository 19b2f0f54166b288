"""The sandbox: every fake provider on one loopback port, one path prefix per provider.

The fakes are handed in (`FakeApi`, one per source: each source's `sandbox/` package exports its
own as `FAKE`); the registry collects them, so nothing here knows which sources exist. Each serves
every person (`people.py`): `login_hint` on the authorize page picks the person, their tokens bring
them back to their own app and world.
"""

import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any

from health_pipeline.sandbox.faults import FaultInjector
from health_pipeline.sandbox.http import Mount, ProviderApp, RequestLog, SandboxHTTPServer
from health_pipeline.sandbox.people import ProviderPeople
from health_pipeline.sandbox.world import DEFAULT_PERSON, SandboxWorld


@dataclass(frozen=True)
class FakeApi:
    """A source's fake API: the path prefix it is served under (`/oura`), how it is built from the world,
    and `config_text(base_url, start_date)`: the source's config section pointing at it. A source whose
    credential is a key rather than an OAuth grant says whose a key is (`person_of_key`, Hevy)."""

    mount: str
    build: Callable[[SandboxWorld], ProviderApp]
    config_text: Callable[[str, date], str]
    person_of_key: Callable[[str], str | None] | None = None


class Sandbox:
    """Fake providers served over real HTTP; start in-process (port 0 picks a free port)."""

    def __init__(self, world: SandboxWorld | None = None, fakes: Sequence[FakeApi] = (), host: str = "127.0.0.1",
                 port: int = 0, tls: tuple[Path, Path] | None = None) -> None:
        self.world = world or SandboxWorld()
        self.log = RequestLog()
        self.faults = FaultInjector(seed=self.world.seed)
        self.fakes = tuple(fakes)
        self._worlds = {self.world.person: self.world}
        self._worlds_lock = threading.Lock()
        # each source's fake API under its path prefix (`/oura`, `/google-health`, ...), for every person
        self.people = {fake.mount: ProviderPeople(fake.mount, fake.build, self.world_for, fake.person_of_key)
                       for fake in self.fakes}
        # the default person's app of each (`sandbox.oura`): what single-person tests drive
        self.apps = {mount: people.default for mount, people in self.people.items()}
        mounts: dict[str, Mount] = dict(self.people)
        self._server = SandboxHTTPServer((host, port), mounts, self.log, self.faults)
        self.tls = tls  # (certificate, key): serve HTTPS, as the real providers do, off loopback
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread: threading.Thread | None = None
        self._serving = False

    def __getattr__(self, name: str) -> Any:
        """A fake provider by its prefix, as an attribute (`sandbox.google_health`)."""
        apps = self.__dict__.get("apps", {})
        if name.replace("_", "-") in apps:
            return apps[name.replace("_", "-")]
        raise AttributeError(name)

    # -- people ------------------------------------------------------------------------------

    def world_for(self, person: str) -> SandboxWorld:
        """The world of a person (`me`, the default: `sandbox.world`); the same object on every call."""
        with self._worlds_lock:
            found = self._worlds.get(person)
            if found is None:
                found = self._worlds[person] = self.world.for_person(person)
            return found

    def app(self, provider: str, person: str = DEFAULT_PERSON) -> ProviderApp:
        """A fake provider's app for one person (`sandbox.app("oura", "alice").oauth.token_payload(...)`)."""
        return self.people[provider].app(person)

    def person_of_token(self, token: str) -> str | None:
        """The person a code, access or refresh token (or Hevy key) was issued to, None when unknown."""
        for people in self.people.values():
            person = people.person_of(token)
            if person is not None:
                return person
        return None

    def quota_peaks(self) -> dict[tuple[str, str | None, str], int]:
        """The highest use each rate window ever reached, over-limit requests included, by (provider, person
        for a per-person window or None for the app's, window name): no quota was exceeded while each is
        at most its window's limit."""
        return {(mount, person, window): peak for mount, quota in self._quotas()
                for (person, window), peak in quota.peaks().items()}

    def quota_refusals(self) -> dict[tuple[str, str | None, str], int]:
        """How many requests each rate window refused, keyed as `quota_peaks`."""
        return {(mount, person, window): count for mount, quota in self._quotas()
                for (person, window), count in quota.refusals().items()}

    def _quotas(self) -> list[tuple[str, Any]]:
        return [(mount, app.quota) for mount, app in self.apps.items() if hasattr(getattr(app, "quota", None), "peaks")]

    # -- serving -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    @property
    def providers(self) -> list[str]:
        """The path prefixes served (one per fake provider)."""
        return list(self.apps)

    def url(self, provider: str) -> str:
        """The base URL a client of `provider` should be configured with."""
        return f"{self.base_url}/{provider}"

    def start(self) -> "Sandbox":
        """Serve in a background thread and return at once."""
        self._serving = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the CLI)."""
        self._serving = True
        try:
            self._server.serve_forever()
        finally:
            self._serving = False

    def stop(self) -> None:
        """Stop serving (if it was) and release the port."""
        if self._serving and self._thread is not None:
            self._server.shutdown()  # waits for serve_forever, so only when it runs
            self._thread.join(timeout=5)
        self._serving = False
        self._server.server_close()

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
