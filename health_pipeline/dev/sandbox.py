"""The sandbox of every registered source: their fake APIs, found by name, on one loopback port.

Each source's fake lives in its own `sandbox/` package and exports `FAKE`; they are imported here
by that name (never by the product, whose import graph so never reaches a fake) when a sandbox is
started: by `health-pipeline sandbox serve`, the demo, tests and benchmarks.
"""

import importlib
from pathlib import Path

from health_pipeline.registry import REGISTRY
from health_pipeline.sandbox.server import FakeApi, Sandbox
from health_pipeline.sandbox.world import SandboxWorld


def registered_fakes() -> list[FakeApi]:
    """Each API source's fake (`<its package>.sandbox.FAKE`), in registry order."""
    return [importlib.import_module(f"{source.package}.sandbox").FAKE for source in REGISTRY.apis]


def sandbox_for(world: SandboxWorld | None = None, host: str = "127.0.0.1", port: int = 0,
                tls: tuple[Path, Path] | None = None) -> Sandbox:
    """A sandbox serving every registered source's fake API (not started yet; `with` starts it);
    over HTTPS with `tls` (certificate, key), which OAuth needs anywhere but on loopback."""
    return Sandbox(world, registered_fakes(), host=host, port=port, tls=tls)
