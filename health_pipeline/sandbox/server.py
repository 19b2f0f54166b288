"""The sandbox: every fake provider on one loopback port, one path prefix per provider.

The fakes are handed in (`FakeApi`, one per source: each source's `sandbox/` package exports its
own as `FAKE`); the registry collects them, so nothing here knows which sources exist.
"""

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Any

from health_pipeline.sandbox.faults import FaultInjector
from health_pipeline.sandbox.http import ProviderApp, RequestLog, SandboxHTTPServer
from health_pipeline.sandbox.world import SandboxWorld


@dataclass(frozen=True)
class FakeApi:
    """A source's fake API: the path prefix it is served under (`/oura`), how it is built from the world,
    and `config_text(base_url, start_date)`: the source's config section pointing at it."""

    mount: str
    build: Callable[[SandboxWorld], ProviderApp]
    config_text: Callable[[str, date], str]


class Sandbox:
    """Fake providers served over real HTTP; start in-process (port 0 picks a free port)."""

    def __init__(self, world: SandboxWorld | None = None, fakes: Sequence[FakeApi] = (), host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.world = world or SandboxWorld()
        self.log = RequestLog()
        self.faults = FaultInjector(seed=self.world.seed)
        self.fakes = tuple(fakes)
        # each source's fake API under its path prefix (`/oura`, `/google-health`, ...)
        self.apps = {fake.mount: fake.build(self.world) for fake in self.fakes}
        self._server = SandboxHTTPServer((host, port), self.apps, self.log, self.faults)
        self._thread: threading.Thread | None = None
        self._serving = False

    def __getattr__(self, name: str) -> Any:
        """A fake provider by its prefix, as an attribute (`sandbox.google_health`)."""
        apps = self.__dict__.get("apps", {})
        if name.replace("_", "-") in apps:
            return apps[name.replace("_", "-")]
        raise AttributeError(name)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

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
